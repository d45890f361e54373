/**
 * The builtin proxy streams an answer with pipe() (issue 18: stream.pipeline() cost an
 * AbortController and a DOMException per request). What pipeline did beyond pipe must
 * still happen: a client that goes away mid-answer ends the upstream request, an upstream
 * that breaks mid-answer ends the client's, and the server's in-flight count comes back
 * to 0 either way. A real proxy process and a real upstream on loopback
 * (upstream 31950, listener 18539).
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { type BuiltinEngine, createBuiltinEngine } from "@/lib/engines/builtin";
import type { BalancerConfig } from "@/lib/engines/types";
import { until } from "../helpers/load";

const UPSTREAM_PORT = 31950;
const LISTEN_PORT = 18539;

let dataDir: string;
let engine: BuiltinEngine;
let upstream: http.Server;
/** upstream requests of /stall whose connection closed (the proxy let go of them) */
let stallsClosed = 0;

const config: BalancerConfig = {
  listen: { host: "127.0.0.1", port: LISTEN_PORT },
  services: [
    {
      id: "svc-stream",
      name: "stream",
      rules: rulesSchema.parse({ healthCheck: { intervalMs: 300, timeoutMs: 500, fall: 2, rise: 1 } }),
      servers: [{ replicaId: "s1", name: "r-s1", host: "127.0.0.1", port: UPSTREAM_PORT, weight: 100, adminState: "ready" }],
    },
  ],
};

const inFlight = async () => (await engine.stats()).servers.find((s) => s.server === "r-s1")?.activeConnections;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    if (req.url === "/stall") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first chunk\n"); // and never the rest
      res.once("close", () => stallsClosed++);
      return;
    }
    if (req.url === "/break") {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "1000" });
      res.write("partial\n");
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    res.end("ok\n");
  });
  await new Promise<void>((r) => upstream.listen(UPSTREAM_PORT, "127.0.0.1", r));
  dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-bse-"));
  engine = createBuiltinEngine({ dataDir, listen: config.listen });
  await engine.start(config);
  await until("the server up", async () => (await engine.stats()).servers[0]?.health.status, (s) => s === "up", 15_000);
});

afterAll(async () => {
  await engine?.stop();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** GET `p` through the proxy: the status, the bytes received, and how the answer ended. */
function fetchThrough(p: string, opts: { leaveAfterFirstChunk?: boolean } = {}): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: LISTEN_PORT, path: p, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        if (opts.leaveAfterFirstChunk) req.destroy();
      });
      res.on("error", () => undefined);
      res.once("close", () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
    });
    req.on("error", (e) => (opts.leaveAfterFirstChunk ? undefined : reject(e)));
  });
}

describe("builtin proxy: the ends of a streamed answer", () => {
  it("a client that leaves mid-answer ends the upstream request, and nothing stays in flight", async () => {
    const got = await fetchThrough("/stall", { leaveAfterFirstChunk: true });
    expect(got.status).toBe(200);
    expect(got.bytes).toBeGreaterThan(0);
    expect(got.complete).toBe(false);
    await until("the upstream request to be let go of", async () => stallsClosed, (n) => n >= 1, 10_000);
    await until("no request in flight", inFlight, (n) => n === 0, 10_000);
  });

  it("an upstream that breaks mid-answer ends the client's answer (not a hang), and nothing stays in flight", async () => {
    const got = await fetchThrough("/break");
    expect(got.status).toBe(200);
    expect(got.bytes).toBeGreaterThan(0);
    expect(got.bytes).toBeLessThan(1000);
    expect(got.complete).toBe(false);
    await until("no request in flight", inFlight, (n) => n === 0, 10_000);
  });

  it("a whole answer still arrives whole", async () => {
    const got = await fetchThrough("/");
    expect(got).toEqual({ status: 200, bytes: 3, complete: true });
    await until("no request in flight", inFlight, (n) => n === 0, 10_000);
  });
});
