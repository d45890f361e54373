import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema, type RulesInput } from "@/lib/core/rules";
import type { BalancerConfig, BalancerServer, BalancerService } from "@/lib/engines/types";
import { createNginxEngine, type NginxEngine } from "@/lib/engines/nginx";
import { activeWorkerPids } from "@/lib/engines/nginx/apply";
import { isAlive } from "@/lib/process/identity";
import { readPidFileSync as readPid } from "@/lib/process/pid-file";
import { startReplica, type ReplicaProcess } from "@/tests/helpers/replica-process";
import { serverOf as server } from "../helpers/engine-config";
import { fileQuiet, until, waitFor } from "../helpers/load";
import { ACCESS_LOG_FLUSH_S } from "@/lib/engines/nginx/render";

// nginx engine against a real nginx 1.22 and real replica processes.
// Ports: replicas 21700-21799, listener 18083 (18093 for the failed-reload and external cases).

const run = promisify(execFile);
const LISTEN = { host: "127.0.0.1", port: 18083 };
const dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-nginx-engine-"));
// Workers run as nobody (nginx's default when started as root): they must be able
// to reach the temp folders under the data folder.
chmodSync(dataDir, 0o755);

const replicas: ReplicaProcess[] = [];
let engine: NginxEngine;
let adopter: NginxEngine | null = null;
const engineOpts = { dataDir, listen: LISTEN, mode: "supervised" as const };


function service(rules: RulesInput, servers: BalancerServer[]): BalancerService {
  return { id: "svc-web", name: "web", rules: rulesSchema.parse(rules), servers };
}

const configOf = (svc: BalancerService, listen = LISTEN): BalancerConfig => ({ listen, services: [svc] });

type Reply = { status: number; replica: string | null; setCookie: string[]; body: string };

function request(opts: { path?: string; localAddress?: string; headers?: Record<string, string>; agent?: http.Agent | false; port?: number; method?: string; body?: Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: LISTEN.host,
        port: opts.port ?? LISTEN.port,
        path: opts.path ?? "/",
        method: opts.method ?? "GET",
        headers: opts.headers,
        localAddress: opts.localAddress,
        agent: opts.agent ?? false,
        timeout: 10_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, replica: (res.headers["x-replica"] as string | undefined) ?? null, setCookie: res.headers["set-cookie"] ?? [], body }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

function tally(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) out[r.replica ?? `status ${r.status}`] = (out[r.replica ?? `status ${r.status}`] ?? 0) + 1;
  return out;
}

async function sequential(n: number, opts: Parameters<typeof request>[0] = {}): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await request(opts));
  return out;
}

/** `concurrency` loops sending requests until `total` were sent, `maxMs` passed or `stop` aborted; failures are counted, not thrown. */
async function load(opts: { total: number; concurrency: number; maxMs: number; agent?: http.Agent | false; stop?: AbortSignal; onReply?: (r: Reply, sentAt: number) => void }) {
  let sent = 0;
  let ok = 0;
  const failures: string[] = [];
  const deadline = Date.now() + opts.maxMs;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (sent < opts.total && Date.now() < deadline && !opts.stop?.aborted) {
        sent++;
        const at = Date.now();
        try {
          const r = await request({ agent: opts.agent });
          if (r.status === 200) ok++;
          else failures.push(`status ${r.status}: ${r.body.slice(0, 80)}`);
          opts.onReply?.(r, at);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    }),
  );
  return { sent, ok, failures };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function totalServed(e: NginxEngine): Promise<number> {
  return (await e.stats()).servers.reduce((n, s) => n + s.totalRequests, 0);
}

/**
 * The access log counters once they reach `expected` (nginx writes a record as its
 * request ends, a moment after the client has the answer), or what they are at the
 * deadline: the caller's assertion reports a shortfall with the figures.
 */
async function settledTotal(e: NginxEngine, expected: number): Promise<number> {
  await waitFor(`${expected} requests counted`, async () => (await totalServed(e)) >= expected, 10_000).catch(() => undefined);
  return totalServed(e);
}

beforeAll(async () => {
  for (let i = 0; i < 4; i++) {
    replicas.push(await startReplica({ port: 21700 + i * 2, adminPort: 21701 + i * 2, id: `n${i + 1}`, service: "web" }));
  }
  engine = createNginxEngine(engineOpts);
  await engine.start(configOf(service({}, replicas.slice(0, 3).map((r) => server(r)))));
});

afterAll(async () => {
  for (const e of [adopter, engine]) {
    try {
      await e?.stop();
    } catch {
      // fall through to the pid below
    }
  }
  const pid = readPid(path.join(dataDir, "nginx", "nginx.pid"));
  if (pid !== null && isAlive(pid)) process.kill(pid, "SIGKILL");
  await Promise.all(replicas.map((r) => r.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe("nginx engine", () => {
  it("starts a daemonized nginx with every file under the data folder", async () => {
    const st = await engine.status();
    expect(st).toMatchObject({ kind: "nginx", running: true, mode: "supervised", adopted: false, listen: LISTEN, version: "1.22.1" });
    expect(st.pid).toBe(readPid(path.join(dataDir, "nginx", "nginx.pid")));
    const live = await engine.liveConfig();
    expect(live).toContain("upstream up_web");
    expect(live).not.toMatch(/^user /m); // the data folder is world-traversable: workers stay nobody
    // per-replica counts come from nginx's access log, which the panel reads (no socket buffer to overflow)
    expect(engine.accessLogStats()).toMatchObject({ file: path.join(dataDir, "nginx", "logs", "access.log"), error: null });
  });

  it("round robin splits requests evenly (within 10%) and stats from the access log count every request", async () => {
    const before = await totalServed(engine);
    const replies = await sequential(300);
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const t = tally(replies);
    console.log("round robin over 300 requests:", t);
    for (const r of replicas.slice(0, 3)) expect(Math.abs((t[r.id] ?? 0) - 100)).toBeLessThanOrEqual(10);

    // concurrent load, then compare the access log counts with what was sent
    const res = await load({ total: 1200, concurrency: 8, maxMs: 30_000 });
    expect(res.failures).toEqual([]);
    const sent = 300 + res.sent;
    const counted = (await settledTotal(engine, before + sent)) - before;
    console.log(`stats: sent ${sent}, counted from the access log ${counted}`);
    expect(counted).toBe(sent); // a file loses nothing (the UDP syslog transport did, under load)
    const stats = await engine.stats();
    const n1 = stats.servers.find((s) => s.server === "r-n1")!;
    expect(n1.responses["2xx"]).toBe(n1.totalRequests);
    expect(Object.values(n1.latencyBuckets ?? {}).reduce((a, b) => a + b, 0)).toBe(n1.totalRequests);
    expect(n1.health).toMatchObject({ status: "up", reason: null }); // no failure reported by the prober
  });

  it("buffers a large request body in the temp folder under the data folder", async () => {
    const r = await request({ method: "POST", path: "/", body: Buffer.alloc(256 * 1024, "x"), headers: { "content-type": "application/octet-stream" } });
    expect(r.status).toBe(200);
  });

  it("batches server changes made together into one reload", async () => {
    const svc = service({}, replicas.slice(0, 3).map((r) => server(r)));
    const reloadsBefore = engine.reloadCount;
    await Promise.all([
      engine.addServer(svc, server(replicas[3])),
      engine.setWeight(svc, "r-n1", 3),
      engine.setServerState(svc, "r-n2", "drain"),
    ]);
    expect(engine.reloadCount - reloadsBefore).toBe(1);
    const live = (await engine.liveConfig())!;
    expect(live).toMatch(/server 127\.0\.0\.1:21700 weight=3 /);
    expect(live).toMatch(/server 127\.0\.0\.1:21702 .* down; # r-n2 \(n2\): drain/);
    expect(live).toContain("127.0.0.1:21706");
    const t = tally(await sequential(250));
    console.log("weights 3/drain/1/1 over 250 requests:", t);
    expect(t.n2 ?? 0).toBe(0);
    expect(t.n1).toBeGreaterThan(130); // 3/5 of 250 = 150
    expect(t.n4).toBeGreaterThan(30);
    const health = (await engine.stats()).servers.find((s) => s.server === "r-n2")!.health;
    expect(health.status).toBe("drain");
  });

  it("takes a drained server out without a reload of its own: the file follows with the next reload", async () => {
    const svc = service({}, replicas.slice(0, 3).map((r) => server(r)));
    const reloadsBefore = engine.reloadCount;
    await engine.removeServer(svc, "r-n2"); // drained by the test above: the live file renders it down
    expect(engine.reloadCount - reloadsBefore).toBe(0);
    expect((await engine.stats()).servers.map((s) => s.server)).not.toContain("r-n2");
    expect((await engine.liveConfig())!).toMatch(/server 127\.0\.0\.1:21702 .* down; # r-n2 \(n2\): drain/); // still there, down
    const t = tally(await sequential(60));
    expect(t.n2 ?? 0).toBe(0);
    // a server in rotation is never taken out lazily: that is a reload, which takes the drained one along
    await engine.removeServer(svc, "r-n4");
    expect(engine.reloadCount - reloadsBefore).toBe(1);
    const live = (await engine.liveConfig())!;
    expect(live).not.toContain("127.0.0.1:21702");
    expect(live).not.toContain("127.0.0.1:21706");
  });

  it("source-IP stickiness keeps each client on one replica and spreads clients (not ip_hash's /24)", async () => {
    const res = await engine.apply(engine.render(configOf(service({ sticky: { mode: "source" } }, replicas.slice(0, 3).map((r) => server(r))))), configOf(service({ sticky: { mode: "source" } }, replicas.slice(0, 3).map((r) => server(r)))));
    expect(res).toEqual({ ok: true, reloaded: true });
    const seen = new Map<string, Set<string>>();
    for (let i = 2; i <= 9; i++) {
      const addr = `127.0.0.${i}`;
      const set = new Set<string>();
      for (const r of await sequential(10, { localAddress: addr })) set.add(r.replica ?? "none");
      seen.set(addr, set);
    }
    console.log("source hash:", Object.fromEntries([...seen].map(([k, v]) => [k, [...v].join(",")])));
    for (const set of seen.values()) expect(set.size).toBe(1);
    expect(new Set([...seen.values()].map((s) => [...s][0])).size).toBeGreaterThanOrEqual(2);
  });

  it("cookie stickiness: nginx hands out an opaque cookie and keeps its holder on one replica", async () => {
    const cfg = configOf(service({ sticky: { mode: "cookie", cookieName: "sy-sticky" } }, replicas.slice(0, 3).map((r) => server(r))));
    expect(await engine.apply(engine.render(cfg), cfg)).toEqual({ ok: true, reloaded: true });
    const first = await request({});
    expect(first.status).toBe(200);
    const cookie = first.setCookie.find((c) => c.startsWith("sy-sticky="));
    expect(cookie).toMatch(/^sy-sticky=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
    const value = cookie!.split(";")[0];
    const follow = await sequential(20, { headers: { cookie: `other=1; ${value}` } });
    expect(new Set(follow.map((r) => r.replica)).size).toBe(1);
    expect(follow.every((r) => r.setCookie.length === 0)).toBe(true); // only set when missing
    // Many fresh clients land on different replicas.
    const owners = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await request({});
      const v = r.setCookie[0].split(";")[0];
      const again = await request({ headers: { cookie: v } });
      expect(again.replica).toBe(r.replica);
      owners.add(r.replica!);
    }
    expect(owners.size).toBeGreaterThanOrEqual(2);
  });

  it("fails over without a failed request when the prober marks a replica down under load", async () => {
    const cfg = configOf(service({}, replicas.slice(0, 3).map((r) => server(r))));
    expect((await engine.apply(engine.render(cfg), cfg)).ok).toBe(true);
    const victim = replicas[1];
    let downAt = Infinity;
    let replies = 0;
    let afterDown = 0;
    const lateHits: number[] = [];
    const stop = new AbortController();
    const run = load({
      total: 200_000,
      concurrency: 8,
      maxMs: 30_000,
      stop: stop.signal,
      onReply: (r, sentAt) => {
        replies++;
        if (sentAt <= downAt) return;
        afterDown++;
        if (r.replica === victim.id) lateHits.push(sentAt - downAt);
      },
    });
    await waitFor("the load to reach the victim", () => replies >= 50);
    // resolves once the reload is verified: no worker of the old generation accepts any more
    await engine.setProbeDown(new Map([[`127.0.0.1:${victim.port}`, "HTTP 503"]]));
    downAt = Date.now();
    await waitFor("200 requests sent after the reload", () => afterDown >= 200, 20_000);
    stop.abort();
    const res = await run;
    console.log(`failover (no keep-alive): ${res.sent} requests, ${res.failures.length} failed, ${lateHits.length} of ${afterDown} sent after the reload reached the down replica`);
    expect(res.failures).toEqual([]);
    expect(lateHits).toEqual([]);
    expect(await engine.liveConfig()).toMatch(new RegExp(`server 127\\.0\\.0\\.1:${victim.port} .* down; .*panel probe`));
    const h = (await engine.stats()).servers.find((s) => s.server === `r-${victim.id}`)!.health;
    expect(h).toMatchObject({ status: "down", reason: "panel probe: HTTP 503" });
    expect(h.lastChangeMs).not.toBeNull();
    expect((await engine.stats()).servers.find((s) => s.server === "r-n1")!.health.status).toBe("up");

    // The same set again: no reload.
    const reloads = engine.reloadCount;
    await engine.setProbeDown(new Set([`127.0.0.1:${victim.port}`]));
    expect(engine.reloadCount).toBe(reloads);
  });

  it("measures what a reload costs keep-alive clients (reported, not asserted)", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const run = load({ total: 4000, concurrency: 8, maxMs: 5000, agent });
    await sleep(800);
    await engine.setProbeDown(new Set()); // the victim comes back: one reload
    await sleep(800);
    await engine.setProbeDown(new Set([`127.0.0.1:${replicas[2].port}`])); // another reload
    const res = await run;
    agent.destroy();
    console.log(`keep-alive clients over 2 reloads: ${res.sent} requests, ${res.failures.length} failed${res.failures.length ? ` (${[...new Set(res.failures)].join("; ")})` : ""}`);
    expect(res.ok).toBeGreaterThan(0);
    await engine.setProbeDown(new Set());
  });

  it("rejects a broken config with nginx's message and keeps the live file and traffic", async () => {
    const cfg = configOf(service({}, replicas.slice(0, 3).map((r) => server(r))));
    const live = await engine.liveConfig();
    const broken = engine.render(cfg).replace("http {\n", "http {\n    bogus_directive on;\n");
    const res = await engine.apply(broken, cfg);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error).toContain('unknown directive "bogus_directive"');
    expect(res.rolledBack).toBe(false);
    expect(await engine.liveConfig()).toBe(live);
    expect((await request({})).status).toBe(200);
    expect(await engine.check(broken)).toMatchObject({ ok: false });
    expect(await engine.check(engine.render(cfg))).toEqual({ ok: true });
  });

  it("rolls back when the reload fails (a listener port taken by someone else)", async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(18093, "127.0.0.1", r));
    try {
      const live = await engine.liveConfig();
      const cfg = configOf(service({}, replicas.slice(0, 3).map((r) => server(r))), { host: "127.0.0.1", port: 18093 });
      const res = await engine.apply(engine.render(cfg), cfg);
      expect(res.ok).toBe(false);
      if (res.ok) return;
      console.log(`failed reload: ${res.error}`);
      expect(res.rolledBack).toBe(true);
      expect(res.error).toMatch(/bind\(\) to 127\.0\.0\.1:18093 failed/);
      expect(res.error).not.toContain("rollback reload failed");
      expect(await engine.liveConfig()).toBe(live);
      expect((await request({})).status).toBe(200);
      expect((await engine.status()).error).toMatch(/18093/);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it("a second engine object on the same data folder adopts the running master", async () => {
    const pid = (await engine.status()).pid;
    await engine.close(); // the panel process goes away; nginx keeps serving
    expect((await request({})).status).toBe(200);
    // that request's record reaches the log up to ACCESS_LOG_FLUSH_S later (nginx buffers it): a reader
    // that started before then would count it, so the new reader starts once the log is quiet
    await fileQuiet(path.join(dataDir, "nginx", "logs", "access.log"), ACCESS_LOG_FLUSH_S * 1000 + 500);
    adopter = createNginxEngine(engineOpts);
    await adopter.start(configOf(service({}, [])));
    const st = await adopter.status();
    expect(st).toMatchObject({ running: true, adopted: true, pid });
    // It knows the live model and drives nginx: a probe-down change reloads.
    const reloads = adopter.reloadCount;
    await adopter.setProbeDown(new Set([`127.0.0.1:${replicas[0].port}`]));
    expect(adopter.reloadCount).toBe(reloads + 1);
    const t = tally(await sequential(30));
    expect(t.n1 ?? 0).toBe(0);
    const total = await settledTotal(adopter, 30);
    expect(total).toBe(30); // counters start with the adopting object
  });

  it("external mode: writes the shared file and runs the operator's reload command", async () => {
    const extDir = mkdtempSync(path.join(os.tmpdir(), "sy-nginx-external-"));
    chmodSync(extDir, 0o755);
    const prefix = path.join(extDir, "nginx");
    const configPath = path.join(prefix, "shared.conf");
    const listen = { host: "127.0.0.1", port: 18093 };
    const ext = createNginxEngine({ dataDir: extDir, listen, mode: "external", configPath, reloadCommand: ["nginx", "-s", "reload", "-c", configPath, "-p", `${prefix}/`] });
    try {
      // "someone else" (a compose container in real life) runs nginx from the shared file
      const first = configOf(service({}, replicas.slice(0, 2).map((r) => server(r))), listen);
      mkdirSync(path.join(prefix, "logs"), { recursive: true });
      mkdirSync(path.join(prefix, "temp"), { recursive: true });
      writeFileSync(configPath, ext.render(first));
      await run("nginx", ["-c", configPath, "-p", `${prefix}/`, "-e", path.join(prefix, "logs", "error.log")]);
      await ext.start(first);
      expect(await ext.status()).toMatchObject({ kind: "nginx", mode: "external", running: true, adopted: true, pid: null, location: configPath });

      const next = configOf(service({}, [server(replicas[2])]), listen);
      // external mode cannot watch the workers; this test started nginx and can
      const master = readPid(path.join(prefix, "nginx.pid"))!;
      const oldWorkers = activeWorkerPids(master);
      expect(await ext.apply(ext.render(next), next)).toEqual({ ok: true, reloaded: true });
      expect(await ext.liveConfig()).toBe(ext.render(next));
      await until("only workers of the new generation to accept", () => activeWorkerPids(master), (w) => w.length > 0 && w.every((p) => !oldWorkers.includes(p)), 10_000);
      expect(tally(await sequential(10, { port: 18093 }))).toEqual({ n3: 10 });
      await ext.stop(); // external: the panel does not stop it
      expect((await request({ port: 18093 })).status).toBe(200);
    } finally {
      await ext.close();
      await run("nginx", ["-s", "quit", "-c", configPath, "-p", `${prefix}/`]).catch(() => undefined);
      const pid = readPid(path.join(prefix, "nginx.pid"));
      for (let i = 0; i < 50 && pid !== null && isAlive(pid); i++) await sleep(100);
      if (pid !== null && isAlive(pid)) process.kill(pid, "SIGKILL");
      rmSync(extDir, { recursive: true, force: true });
    }
  });

  it("stops nginx", async () => {
    const pid = (await adopter!.status()).pid!;
    await adopter!.stop();
    expect(isAlive(pid)).toBe(false);
    expect((await adopter!.status()).running).toBe(false);
    await expect(request({})).rejects.toThrow();
  });
});
