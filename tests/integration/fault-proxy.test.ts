/**
 * The fault proxy's effects (issue 14, item 2), against a real loopback HTTP server
 * behind it: latency per request and an error share per request on one keep-alive
 * connection, resets, a black hole, bodies streamed (not buffered), WebSocket-style
 * upgrades passed through; and the proxy as its own detached process: started, found by
 * its pid file, stopped. Ports: replica 29400 (29401 kept closed), proxies 19000-19009.
 */
import http from "node:http";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_STATUS, startFaultProxy, type FaultEffects, type FaultProxy } from "@/lib/faults/network/proxy";
import { forget } from "@/lib/remember";
import { needs } from "../helpers/requirements";

const UPSTREAM = 29400;
const NONE: FaultEffects = { latencyMs: 0, errorRate: 0, reset: false, blackhole: false };

let upstream: http.Server;
let seen = 0;
const upgraded = new Set<net.Socket>();

function request(port: number, opts: { agent?: http.Agent; method?: string; path?: string; body?: Buffer; timeoutMs?: number } = {}): Promise<{ status: number; body: string; ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: opts.method ?? "GET", path: opts.path ?? "/", agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      let body = "";
      let bytes = 0;
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        if (body.length < 200) body += d.toString("utf8");
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0, bytes }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

async function withProxy<T>(port: number, effects: FaultEffects, fn: (p: FaultProxy) => Promise<T>, random?: () => number): Promise<T> {
  const proxy = await startFaultProxy({ listen: { host: "127.0.0.1", port }, target: { host: "127.0.0.1", port: UPSTREAM }, effects, random });
  try {
    return await fn(proxy);
  } finally {
    await proxy.close(200);
  }
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen++;
    if (req.url === "/echo") {
      let n = 0;
      req.on("data", (d: Buffer) => (n += d.length));
      req.on("end", () => res.end(String(n)));
      return;
    }
    if (req.url === "/big") {
      const chunk = Buffer.alloc(64 * 1024, 120);
      let left = 256; // 16 MiB
      const more = () => {
        while (left > 0) {
          left--;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      return more();
    }
    res.setHeader("x-replica", "r1");
    res.end("ok");
  });
  upstream.on("upgrade", (req: http.IncomingMessage, socket: net.Socket) => {
    upgraded.add(socket);
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    socket.on("data", (d: Buffer) => socket.write(Buffer.concat([Buffer.from("echo:"), d])));
  });
  await new Promise<void>((r) => upstream.listen(UPSTREAM, "127.0.0.1", r));
});

afterAll(async () => {
  upstream.closeAllConnections();
  for (const s of upgraded) s.destroy();
  await new Promise((r) => upstream.close(r));
});

describe("fault proxy effects", () => {
  it("without effects it forwards, the replica's answer unchanged", async () => {
    await withProxy(19000, NONE, async (p) => {
      const r = await request(19000);
      expect([r.status, r.body]).toEqual([200, "ok"]);
      expect(p.counts.forwarded).toBe(1);
    });
  });

  it("latency: every request on one keep-alive connection waits latencyMs before it is forwarded", async () => {
    await withProxy(19001, { ...NONE, latencyMs: 150 }, async (p) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await request(19001, { agent });
        expect(r.status).toBe(200);
        times.push(r.ms);
      }
      agent.destroy();
      console.log(`latency 150 ms: requests took ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
      for (const t of times) expect(t).toBeGreaterThanOrEqual(145);
      expect(p.counts.connections).toBe(1);
    });
  });

  it("errorRate: each request on one keep-alive connection is drawn on its own; errors never reach the replica", async () => {
    const draws = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7];
    let i = 0;
    const before = seen;
    await withProxy(
      19002,
      { ...NONE, errorRate: 0.5 },
      async (p) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const statuses: number[] = [];
        for (let k = 0; k < draws.length; k++) statuses.push((await request(19002, { agent })).status);
        agent.destroy();
        expect(statuses).toEqual([FAULT_STATUS, 200, FAULT_STATUS, 200, FAULT_STATUS, 200]);
        expect(p.counts.connections).toBe(1);
        expect(p.counts.errors).toBe(3);
        expect(seen - before).toBe(3);
      },
      () => draws[i++ % draws.length],
    );
  });

  it("errorRate 1: every request answered 503 by the proxy", async () => {
    await withProxy(19003, { ...NONE, errorRate: 1 }, async () => {
      const r = await request(19003, { method: "POST", path: "/echo", body: Buffer.alloc(100_000) });
      expect(r.status).toBe(503);
      expect(r.body).toContain("fault injected");
    });
  });

  it("reset: connections are reset", async () => {
    await withProxy(19004, { ...NONE, reset: true }, async (p) => {
      await expect(request(19004)).rejects.toThrow(/ECONNRESET|socket hang up/);
      expect(p.counts.resets).toBe(1);
    });
  });

  it("blackhole: the connection is accepted and never answered", async () => {
    await withProxy(19005, { ...NONE, blackhole: true }, async (p) => {
      const before = seen;
      let connected = false;
      const outcome = await new Promise<string>((resolve) => {
        const req = http.request({ host: "127.0.0.1", port: 19005, path: "/", agent: false, timeout: 600 }, () => resolve("answered"));
        req.on("socket", (s) => s.once("connect", () => (connected = true)));
        req.on("timeout", () => {
          req.destroy();
          resolve("timeout");
        });
        req.on("error", (e) => resolve(`error ${e.message}`));
        req.end();
      });
      expect(outcome).toBe("timeout");
      expect(connected).toBe(true);
      expect(p.counts.held).toBe(1);
      expect(seen).toBe(before);
    });
  });

  it("bodies stream both ways: 16 MiB up and 16 MiB down pass through", async () => {
    await withProxy(19006, NONE, async () => {
      const up = await request(19006, { method: "POST", path: "/echo", body: Buffer.alloc(16 * 1024 * 1024, 1) });
      expect(up.body).toBe(String(16 * 1024 * 1024));
      const down = await request(19006, { path: "/big" });
      expect(down.bytes).toBe(16 * 1024 * 1024);
    });
  });

  it("a replica that refuses: the connection is reset, as without the proxy (not an answer the balancer may not retry)", async () => {
    const proxy = await startFaultProxy({ listen: { host: "127.0.0.1", port: 19009 }, target: { host: "127.0.0.1", port: 29401 }, effects: NONE });
    try {
      await expect(request(19009)).rejects.toThrow(/ECONNRESET|socket hang up/);
    } finally {
      await proxy.close(200);
    }
  });

  it("an upgrade (WebSocket) is passed through as a byte stream", async () => {
    await withProxy(19007, { ...NONE, latencyMs: 20 }, async (p) => {
      const echoed = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: 19007, path: "/ws", headers: { connection: "Upgrade", upgrade: "websocket" } });
        req.on("upgrade", (res, socket: net.Socket) => {
          expect(res.statusCode).toBe(101);
          socket.once("data", (d: Buffer) => {
            resolve(d.toString());
            socket.destroy();
          });
          socket.write("ping");
        });
        req.on("error", reject);
        req.end();
      });
      expect(echoed).toBe("echo:ping");
      expect(p.counts.upgrades).toBe(1);
    });
  });
});

describe("fault proxy process", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-fault-proxy-"));
    process.env.DATA_DIR = dataDir;
    forget("env");
  });
  afterAll(() => {
    forget("env");
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs detached, is found by its pid file and command line, and stops", async () => {
    const { proxyFiles, startProxyProcess, liveProxyPid, stopProxyProcess, isFaultProxy } = await import("@/lib/faults/network/process");
    const files = proxyFiles("rtest1");
    const pid = await startProxyProcess({ files, port: 19008, target: { host: "127.0.0.1", port: UPSTREAM }, effects: { ...NONE, errorRate: 1 } });
    try {
      expect(await liveProxyPid(files, 19008)).toBe(pid);
      expect(await liveProxyPid(files, 19009)).toBeNull(); // another port: not this one
      expect(isFaultProxy(process.pid)).toBe(false);
      expect((await request(19008)).status).toBe(503);
      if (process.getuid?.() === 0) {
        const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
        console.log(`fault proxy pid ${pid} runs as uid ${uid}`);
        expect(uid).not.toBe(0);
      }
    } finally {
      await stopProxyProcess(files, 19008, pid);
    }
    expect(await liveProxyPid(files, 19008)).toBeNull();
    await expect(request(19008)).rejects.toThrow(/ECONNREFUSED/);
    await stopProxyProcess(files, 19008, pid); // idempotent
  });

  const whyNotRoot = process.getuid?.() === 0 ? null : "this test runs as root (only a root panel runs the proxy as the replica user and publishes a bundle for it)";
  it.skipIf(needs("root", whyNotRoot))("a replica user who cannot read the checkout runs a published bundle of it", async () => {
    const { proxyFiles, startProxyProcess, liveProxyPid, stopProxyProcess } = await import("@/lib/faults/network/process");
    const files = proxyFiles("rtest2");
    const pid = await startProxyProcess({ files, port: 19008, target: { host: "127.0.0.1", port: UPSTREAM }, effects: { ...NONE, errorRate: 1 }, forceBundle: true });
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      console.log(`bundled fault proxy: ${cmdline.slice(0, 2).join(" ")}`);
      expect(cmdline[1]).toMatch(/fault-proxy\.mjs$/);
      expect(await liveProxyPid(files, 19008)).toBe(pid);
      expect((await request(19008)).status).toBe(503);
    } finally {
      await stopProxyProcess(files, 19008, pid);
    }
    expect(await liveProxyPid(files, 19008)).toBeNull();
  });
});
