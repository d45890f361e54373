/**
 * The builtin proxy's life apart from the panel: it outlives the process that
 * started it, a new engine object adopts it, a bad config is refused while the
 * old one serves, stop() drains in-flight requests, a taken port is reported.
 * Listener 127.0.0.1:18092, replicas on 21650-21659 (data) and 21660-21669 (admin).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { type BuiltinEngine, createBuiltinEngine } from "@/lib/engines/builtin";
import { controlCall } from "@/lib/engines/builtin/control";
import type { BalancerConfig, EngineStatus } from "@/lib/engines/types";
import { type ReplicaProcess, startReplica } from "../helpers/replica-process";
import { get, runLoad, until } from "../helpers/load";
// alive and not a zombie: a proxy that exited but is not reaped yet serves nothing
import { isAlive } from "@/lib/process/identity";

const LISTEN_PORT = 18092;
const DATA_BASE = 21650;
const ADMIN_BASE = 21660;
const REPO = path.resolve(__dirname, "..", "..");

let dataDir: string;
const replicas: ReplicaProcess[] = [];
const engines: BuiltinEngine[] = [];

const newEngine = () => {
  const e = createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT } });
  engines.push(e);
  return e;
};

const configOf = (n = replicas.length): BalancerConfig => ({
  listen: { host: "127.0.0.1", port: LISTEN_PORT },
  services: [
    {
      id: "svc-web",
      name: "web",
      rules: rulesSchema.parse({ healthCheck: { intervalMs: 300 } }),
      servers: replicas.slice(0, n).map((r) => ({ replicaId: r.id, name: `r-${r.id}`, host: "127.0.0.1", port: r.port, weight: 1, adminState: "ready" as const })),
    },
  ],
});


beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-bl-"));
  for (let i = 0; i < 2; i++) replicas.push(await startReplica({ port: DATA_BASE + i, adminPort: ADMIN_BASE + i, id: `l${i + 1}`, service: "web" }));
});

afterAll(async () => {
  // whichever engine object is left can stop the proxy (they share the data dir)
  await newEngine().stop();
  await Promise.all(replicas.map((r) => r.stop()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("builtin proxy lifecycle", () => {
  it("reports a taken listen port instead of starting", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(LISTEN_PORT, "127.0.0.1", r));
    try {
      const engine = newEngine();
      await expect(engine.start(configOf())).rejects.toThrow(/cannot listen on 127\.0\.0\.1:18092: EADDRINUSE/);
      expect(await engine.status()).toMatchObject({ running: false, pid: null });
      expect((await engine.check(engine.render(configOf()))).ok).toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  let firstPid = 0;

  it("keeps serving after the process that started it exits, and a new engine object adopts it", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", path.join(REPO, "tests", "fixtures", "builtin", "start-engine.ts"), dataDir, String(LISTEN_PORT), ...replicas.map((r) => String(r.port))],
      { cwd: REPO, timeout: 30_000 },
    );
    const started = JSON.parse(stdout.trim().split("\n").pop()!) as EngineStatus;
    expect(started).toMatchObject({ running: true, adopted: false });
    firstPid = started.pid!;
    // the starter is gone; the proxy is not
    expect(isAlive(firstPid)).toBe(true);
    const load = await runLoad(LISTEN_PORT, { concurrency: 2, durationMs: 300, maxRequests: 200 });
    expect(load.failed).toBe(0);
    expect(Object.keys(load.byReplica).sort()).toEqual(["l1", "l2"]);

    const engine = newEngine();
    await engine.start(configOf());
    const status = await engine.status();
    expect(status).toMatchObject({ running: true, adopted: true, pid: firstPid, version: expect.stringMatching(/^switchyard-builtin /) });
    // only this user may drive the proxy
    expect(statSync(path.join(dataDir, "builtin", "control.sock")).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, "builtin")).mode & 0o777).toBe(0o700);
    expect((await engine.stats()).servers.map((s) => s.server).sort()).toEqual(["r-l1", "r-l2"]);
    // the adopted proxy takes applies like one we started
    expect(await engine.apply(engine.render(configOf(1)), configOf(1))).toEqual({ ok: true, reloaded: true });
    expect((await engine.stats()).servers.map((s) => s.server)).toEqual(["r-l1"]);
    expect(await engine.apply(engine.render(configOf()), configOf())).toEqual({ ok: true, reloaded: true });
  });

  it("refuses a bad config on the control socket and keeps serving the old one", async () => {
    const socket = path.join(dataDir, "builtin", "control.sock");
    const before = await controlCall(socket, { cmd: "ping" });
    expect(before.ok).toBe(true);
    const bad = path.join(dataDir, "bad.json");
    writeFileSync(bad, JSON.stringify({ engine: "switchyard-builtin", format: 1, listen: { host: "127.0.0.1", port: LISTEN_PORT }, services: [{ name: "Bad Name" }] }));
    const refused = await controlCall(socket, { cmd: "load", configPath: bad });
    console.log("refused load:", refused);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toMatch(/services\[0\]/);
    const missing = await controlCall(socket, { cmd: "load", configPath: path.join(dataDir, "nope.json") });
    expect(missing).toMatchObject({ ok: false, error: expect.stringMatching(/ENOENT/) });
    const garbage = await controlCall(socket, { cmd: "setState", service: "web", server: "r-nobody", state: "maint" });
    expect(garbage).toMatchObject({ ok: false, error: "no server r-nobody in service web" });
    const after = await controlCall(socket, { cmd: "ping" });
    expect(after.ok && before.ok && after.generation === before.generation).toBe(true);
    const load = await runLoad(LISTEN_PORT, { concurrency: 2, durationMs: 300, maxRequests: 200 });
    expect(load.failed).toBe(0);
    expect(Object.keys(load.byReplica).sort()).toEqual(["l1", "l2"]);
  });

  it("stop() lets in-flight requests finish, then the listener is gone", async () => {
    const engine = newEngine();
    const slow = get(LISTEN_PORT, { path: "/work?ms=1200", timeoutMs: 10_000 });
    const inFlight = async () => (await engine.stats()).servers.reduce((n, s) => n + s.activeConnections, 0);
    await until("the proxy to have the slow request in flight", inFlight, (n) => n === 1);
    const t0 = Date.now();
    await engine.stop();
    const stopMs = Date.now() - t0;
    const hit = await slow;
    console.log(`stop took ${stopMs} ms; the in-flight request got ${hit.status} from ${hit.replica}`);
    expect(hit.status).toBe(200);
    expect(stopMs).toBeLessThan(6000);
    expect(isAlive(firstPid)).toBe(false);
    expect(await engine.status()).toMatchObject({ running: false, pid: null });
    await expect(get(LISTEN_PORT, { timeoutMs: 1000 })).rejects.toThrow(/ECONNREFUSED/);
  });

  it("starts a fresh proxy after a stop (not adopted)", async () => {
    const engine = newEngine();
    await engine.start(configOf());
    const status = await engine.status();
    expect(status).toMatchObject({ running: true, adopted: false });
    expect(status.pid).not.toBe(firstPid);
    expect((await get(LISTEN_PORT)).status).toBe(200);
  });
});
