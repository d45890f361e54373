/**
 * The builtin proxy's HTTP behaviour against small echo backends written here:
 * host and path routes, strip prefix, X-Forwarded-*, streamed bodies, 503s and
 * WebSocket (Upgrade) passthrough. Listener 127.0.0.1:18082, backends on 21600-21609.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RulesInput, rulesSchema } from "@/lib/core/rules";
import { type BuiltinEngine, createBuiltinEngine } from "@/lib/engines/builtin";
import type { BalancerConfig, BalancerService } from "@/lib/engines/types";

const LISTEN_PORT = 18082;
const BACKEND_BASE = 21600;

type Echo = { name: string; port: number; server: http.Server; sockets: Set<net.Socket> };
type Answer = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
type Seen = { backend: string; method: string; url: string; headers: http.IncomingHttpHeaders; bytes: number };

/**
 * An echo backend: answers with what it received (method, URL, headers, body
 * size) as JSON, or `kb` KiB of text for GET ?kb=N; echoes raw bytes back after
 * an Upgrade.
 */
function startEcho(name: string, port: number): Promise<Echo> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on("data", (d: Buffer) => (bytes += d.length));
    req.on("end", () => {
      const kb = Number(new URL(req.url ?? "/", "http://x").searchParams.get("kb") ?? 0);
      res.setHeader("x-backend", name);
      if (kb > 0) {
        res.setHeader("content-type", "text/plain");
        res.end(Buffer.alloc(kb * 1024, "x"));
        return;
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ backend: name, method: req.method ?? "", url: req.url ?? "", headers: req.headers, bytes } satisfies Seen));
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Backend: ${name}\r\nX-Echo-Url: ${req.url}\r\nX-Echo-Xff: ${req.headers["x-forwarded-for"]}\r\n\r\n`,
    );
    socket.on("data", (d) => socket.write(d));
    socket.on("error", () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ name, port, server, sockets })));
}

function request(opts: { path: string; host?: string; method?: string; body?: Buffer; headers?: Record<string, string>; localAddress?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: LISTEN_PORT,
        path: opts.path,
        method: opts.method ?? "GET",
        agent: false,
        localAddress: opts.localAddress,
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

const seen = (a: Answer): Seen => {
  expect(a.status, a.body.toString()).toBe(200);
  return JSON.parse(a.body.toString()) as Seen;
};

let dataDir: string;
let engine: BuiltinEngine;
const echoes: Echo[] = [];

const fast = { healthCheck: { intervalMs: 300, timeoutMs: 500 } } satisfies RulesInput;
const service = (name: string, echo: Echo[], rules: RulesInput): BalancerService => ({
  id: `svc-${name}`,
  name,
  rules: rulesSchema.parse({ ...fast, ...rules }),
  servers: echo.map((e) => ({ replicaId: e.name, name: `r-${e.name}`, host: "127.0.0.1", port: e.port, weight: 1, adminState: "ready" as const })),
});

async function apply(services: BalancerService[]) {
  const config: BalancerConfig = { listen: { host: "127.0.0.1", port: LISTEN_PORT }, services };
  expect(await engine.apply(engine.render(config), config)).toEqual({ ok: true, reloaded: true });
}

let gateway: BalancerService[];

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-br-"));
  for (let i = 0; i < 4; i++) echoes.push(await startEcho(`e${i + 1}`, BACKEND_BASE + i));
  engine = createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT } });
  gateway = [
    service("ttt", [echoes[0]], { route: { host: "tictactoe.local" } }),
    service("api", [echoes[1]], { route: { pathPrefix: "/api", stripPrefix: true, priority: 500 } }),
    service("web", [echoes[2]], { route: { pathPrefix: "/" } }),
  ];
  await engine.start({ listen: { host: "127.0.0.1", port: LISTEN_PORT }, services: gateway });
});

afterAll(async () => {
  await engine?.stop();
  for (const e of echoes) {
    for (const s of e.sockets) s.destroy();
    await new Promise((r) => e.server.close(r));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("builtin proxy routing and HTTP behaviour", () => {
  it("routes by host (any case, any port) and falls back to the any-host route", async () => {
    expect(seen(await request({ path: "/play", host: "tictactoe.local" }))).toMatchObject({ backend: "e1", url: "/play" });
    expect(seen(await request({ path: "/play", host: "TicTacToe.Local:18082" }))).toMatchObject({ backend: "e1" });
    expect(seen(await request({ path: "/play", host: "other.local" }))).toMatchObject({ backend: "e3", url: "/play" });
  });

  it("routes by path prefix on whole segments and strips the prefix", async () => {
    expect(seen(await request({ path: "/api/users?id=1" }))).toMatchObject({ backend: "e2", url: "/users?id=1" });
    expect(seen(await request({ path: "/api" }))).toMatchObject({ backend: "e2", url: "/" });
    expect(seen(await request({ path: "/apix" }))).toMatchObject({ backend: "e3", url: "/apix" });
    // priority 5 beats the host route
    expect(seen(await request({ path: "/api/v", host: "tictactoe.local" }))).toMatchObject({ backend: "e2", url: "/v" });
  });

  it("sets X-Forwarded-For/Proto/Host and keeps the Host header", async () => {
    const s = seen(await request({ path: "/h", host: "tictactoe.local:18082", localAddress: "127.0.0.3", headers: { "x-forwarded-for": "10.9.9.9" } }));
    expect(s.headers).toMatchObject({
      host: "tictactoe.local:18082",
      "x-forwarded-for": "10.9.9.9, 127.0.0.3",
      "x-forwarded-proto": "http",
      "x-forwarded-host": "tictactoe.local:18082",
    });
    expect(s.headers.connection).not.toBe("close");
  });

  it("streams request and response bodies both ways", async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, "y");
    const up = seen(await request({ path: "/upload", method: "POST", body, headers: { "content-type": "application/octet-stream" } }));
    expect(up).toMatchObject({ backend: "e3", method: "POST", bytes: body.length });
    const chunked = await new Promise<Seen>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: LISTEN_PORT, path: "/chunked", method: "PUT", agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
      });
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(1000, "z"));
      req.end();
    });
    expect(chunked).toMatchObject({ method: "PUT", bytes: 10_000 });
    const down = await request({ path: "/big?kb=2048" });
    expect(down.status).toBe(200);
    expect(down.body.length).toBe(2048 * 1024);
  });

  it("passes a WebSocket upgrade through to the chosen backend", async () => {
    const { res, socket, head } = await new Promise<{ res: http.IncomingMessage; socket: net.Socket; head: Buffer }>((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: LISTEN_PORT,
        path: "/api/ws?room=1",
        agent: false,
        localAddress: "127.0.0.4",
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
      });
      req.on("upgrade", (res, socket, head) => resolve({ res, socket, head }));
      req.on("response", (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
    expect(res.statusCode).toBe(101);
    expect(res.headers).toMatchObject({ "x-backend": "e2", "x-echo-url": "/ws?room=1", "x-echo-xff": "127.0.0.4" });
    const echoed = await new Promise<string>((resolve) => {
      let got = head.toString();
      socket.on("data", (d: Buffer) => {
        got += d.toString();
        if (got.length >= 11) resolve(got);
      });
      socket.write("hello-there");
    });
    expect(echoed).toBe("hello-there");
    const stats = (await engine.stats()).servers.find((s) => s.server === "r-e2");
    expect(stats?.activeConnections).toBe(1);
    socket.end();
    const deadline = Date.now() + 4000;
    let active = 1;
    while (active > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      active = (await engine.stats()).servers.find((s) => s.server === "r-e2")?.activeConnections ?? -1;
    }
    expect(active).toBe(0);
  });

  it("answers 503 with a short text when no route matches or no server may take the request", async () => {
    await apply([service("ttt", [echoes[0]], { route: { host: "tictactoe.local" } }), service("api", [echoes[1]], { route: { pathPrefix: "/api" } })]);
    const noRoute = await request({ path: "/", host: "other.local" });
    expect(noRoute.status).toBe(503);
    expect(noRoute.headers["content-type"]).toMatch(/^text\/plain/);
    expect(noRoute.body.toString()).toMatch(/no route/);

    const maint = service("api", [echoes[1]], { route: { pathPrefix: "/api" } });
    maint.servers[0].adminState = "maint";
    await apply([service("ttt", [echoes[0]], { route: { host: "tictactoe.local" } }), maint]);
    const noServer = await request({ path: "/api/x" });
    expect(noServer.status).toBe(503);
    expect(noServer.body.toString()).toMatch(/no server available/);
    expect(seen(await request({ path: "/", host: "tictactoe.local" })).backend).toBe("e1");
  });

  it("answers 502 when the only server refuses connections, and marks it down", async () => {
    const dead = service("web", [echoes[3]], { route: { pathPrefix: "/" }, passive: { maxFails: 1 } });
    dead.servers[0].port = BACKEND_BASE + 9; // nothing listens there
    await apply([dead]);
    const r = await request({ path: "/" });
    expect(r.status).toBe(502);
    expect(r.body.toString()).toMatch(/cannot connect/);
    const s = (await engine.stats()).servers[0];
    expect(s.connectionErrors).toBeGreaterThan(0);
    expect(s.health.status).toBe("down");
    expect(s.health.reason).toMatch(/ECONNREFUSED/);
    await apply(gateway);
  });
});
