/**
 * The builtin proxy on several cores (issue 18): a primary and its workers sharing the
 * listener (lib/engines/builtin/workers.ts), with real replica processes. What must stay
 * one proxy: counters summed exactly across workers, an apply and a runtime weight change
 * reaching every worker, stickiness across workers, a killed worker replaced while the
 * listener answers, workers dying with the primary, and workers: 1 serving alone.
 * Replicas 15300-15303 (data) and 15350-15353 (admin); listeners 18610-18611.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RulesInput, rulesSchema } from "@/lib/core/rules";
import { type BuiltinEngine, createBuiltinEngine } from "@/lib/engines/builtin";
import { controlCall } from "@/lib/engines/builtin/control";
import type { BalancerServer, BalancerService } from "@/lib/engines/types";
import { type ReplicaProcess, startReplica } from "../helpers/replica-process";
import { countByReplica, get, startLoad, until, waitFor } from "../helpers/load";
import { applyOk, configAt, serverOf } from "../helpers/engine-config";
import { hasBinary, needs } from "../helpers/requirements";

const LISTEN_PORT = 18610;
const SINGLE_PORT = 18611;
const WORKERS = 2;

let dataDir: string;
let engine: BuiltinEngine;
const replicas: ReplicaProcess[] = [];

const fastChecks = { healthCheck: { intervalMs: 300, timeoutMs: 500, fall: 2, rise: 2 } } satisfies RulesInput;
const serviceOf = (servers: BalancerServer[], rules: RulesInput = {}): BalancerService => ({ id: "svc-web", name: "web", rules: rulesSchema.parse({ ...fastChecks, ...rules }), servers });
const three = (extra: Partial<BalancerServer>[] = []) => replicas.slice(0, 3).map((r, i) => serverOf(r, extra[i]));
const socketPath = () => path.join(dataDir, "builtin", "control.sock");

async function ping() {
  const r = await controlCall(socketPath(), { cmd: "ping" });
  if (!r.ok) throw new Error(r.error);
  return r;
}

/** The replica's own count of data requests (GET /admin/info). */
async function replicaCount(r: ReplicaProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${r.adminPort}/admin/info`, { headers: { authorization: `Bearer ${r.token}` } });
  const body = (await res.json()) as { counters: { requests: number } };
  return body.counters.requests;
}

const totals = async () => Object.fromEntries((await engine.stats()).servers.map((s) => [s.server, s.totalRequests]));

/** `connections` keep-alive connections (the primary hands them to the workers in turn), `perConnection` requests on each. */
async function spread(connections: number, perConnection: number, opts: { cookie?: string } = {}) {
  return (
    await Promise.all(
      Array.from({ length: connections }, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const hits = [];
        try {
          for (let i = 0; i < perConnection; i++) hits.push(await get(LISTEN_PORT, { agent, ...opts }));
        } finally {
          agent.destroy();
        }
        return hits;
      }),
    )
  ).flat();
}

/** The pids of the processes holding established client connections on the listener (ss -tnp). */
function clientConnectionOwners(): Set<number> {
  const out = execFileSync("ss", ["-Htnp", "state", "established", `( sport = :${LISTEN_PORT} )`], { encoding: "utf8" });
  return new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
const parentOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
};

describe.skipIf(needs("ss (iproute2)", hasBinary("ss", ["-V"])))("builtin proxy with workers (real replicas)", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-bw-"));
    for (let i = 0; i < 3; i++) replicas.push(await startReplica({ port: 15300 + i, adminPort: 15350 + i, id: `w${i + 1}`, service: "web" }));
    engine = createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT }, workers: WORKERS });
    await engine.start(configAt(LISTEN_PORT, serviceOf(three())));
  });

  afterAll(async () => {
    await engine?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs one primary (the pid the engine supervises) and its workers, children of it", async () => {
    // start() returns once one worker serves; the other joins as it comes
    const p = await until("every worker serving", ping, (r) => r.workers.length === WORKERS, 20_000, 100);
    expect((await engine.status()).pid).toBe(p.pid);
    expect(p.workers).toHaveLength(WORKERS);
    for (const w of p.workers) expect(parentOf(w)).toBe(p.pid);
  });

  it("sums every worker's counters exactly: the control socket's totals equal the requests sent and each replica's own count", async () => {
    const before = await totals();
    const replicasBefore = await Promise.all(replicas.map(replicaCount));
    // 8 keep-alive connections, 60 requests each; after the first round all 8 are open (idle), and both workers hold some
    const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const round = () => Promise.all(agents.map((agent) => get(LISTEN_PORT, { agent })));
    const hits = await round();
    const owners = clientConnectionOwners();
    for (let n = 1; n < 60; n++) hits.push(...(await round()));
    agents.forEach((a) => a.destroy());
    const { workers } = await ping();
    console.log("client connections held by", [...owners], "workers", workers);
    expect([...owners].filter((pid) => workers.includes(pid)).length, "both workers hold client connections").toBe(WORKERS);
    expect(hits.every((h) => h.status === 200)).toBe(true);
    expect(hits).toHaveLength(480);

    const after = await totals();
    const replicasAfter = await Promise.all(replicas.map(replicaCount));
    const proxyDelta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
    const replicaDelta = Object.fromEntries(replicas.map((r, i) => [`r-${r.id}`, replicasAfter[i] - replicasBefore[i]]));
    console.log("per server: proxy", proxyDelta, "replicas", replicaDelta);
    expect(Object.values(proxyDelta).reduce((a, b) => a + b, 0)).toBe(480);
    expect(proxyDelta).toEqual(replicaDelta);
    const stats = await engine.stats();
    const latencyTotal = stats.servers.reduce((n, s) => n + Object.values(s.latencyBuckets ?? {}).reduce((a, b) => a + b, 0), 0);
    const answered = stats.servers.reduce((n, s) => n + s.responses["2xx"], 0);
    expect(latencyTotal, "the merged latency buckets hold every answered request").toBe(answered);
  });

  it("an apply and a runtime weight change reach every worker (the distribution follows them)", async () => {
    const weighted = serviceOf(three([{ weight: 3 }, { weight: 1 }, { weight: 0 }]));
    await applyOk(engine, configAt(LISTEN_PORT, weighted));
    const counts = countByReplica(await spread(8, 40));
    console.log("after apply 3:1:0", counts);
    // each worker runs smooth weighted round robin from the apply on: 3 of every 4, none to weight 0
    expect(counts.w3 ?? 0).toBe(0);
    expect(counts).toEqual({ w1: 240, w2: 80 });

    await engine.setWeight(weighted, "r-w1", 0);
    await engine.setWeight(weighted, "r-w3", 2);
    const after = countByReplica(await spread(8, 30));
    console.log("after setWeight 0:1:2", after);
    expect(after.w1 ?? 0).toBe(0);
    expect(after.w2 + after.w3).toBe(240);
    expect(Math.abs(after.w3 - 160)).toBeLessThanOrEqual(8);
    await applyOk(engine, configAt(LISTEN_PORT, serviceOf(three())));
  });

  it("cookie stickiness and source hashing hold a client whichever worker takes its connection", async () => {
    await applyOk(engine, configAt(LISTEN_PORT, serviceOf(three(), { sticky: { mode: "cookie" } })));
    const first = await waitFor("a sticky cookie", async () => {
      const h = await get(LISTEN_PORT);
      return h.setCookie.length > 0 ? h : null;
    });
    const cookie = first.setCookie[0].split(";")[0];
    // a new connection per request: the primary hands them to the workers in turn
    const hits = [];
    for (let i = 0; i < 20; i++) hits.push(await get(LISTEN_PORT, { cookie }));
    expect(new Set(hits.map((h) => h.replica))).toEqual(new Set([first.replica]));
    expect(hits.every((h) => h.setCookie.length === 0)).toBe(true);

    await applyOk(engine, configAt(LISTEN_PORT, serviceOf(three(), { sticky: { mode: "source" } })));
    for (const a of [2, 3, 4, 5]) {
      const seen = new Set<string | null>();
      for (let i = 0; i < 8; i++) seen.add((await get(LISTEN_PORT, { localAddress: `127.0.0.${a}` })).replica);
      expect(seen.size, `127.0.0.${a} stays on one replica`).toBe(1);
    }
    await applyOk(engine, configAt(LISTEN_PORT, serviceOf(three())));
  });

  it("replaces a killed worker while the listener keeps answering; the counters it reported stay", async () => {
    const before = await ping();
    const victim = before.workers[0];
    const load = startLoad(LISTEN_PORT, { concurrency: 4, durationMs: 20_000 });
    await until("traffic through the listener", () => load.hits.length, (n) => n >= 40);
    const counted = Object.values(await totals()).reduce((a, b) => a + b, 0);
    process.kill(victim, "SIGKILL");
    const replaced = await until("a new worker in place of the killed one", ping, (p) => p.workers.length === WORKERS && !p.workers.includes(victim), 20_000, 100);
    const served = load.hits.length;
    await until("answers after the replacement", () => load.hits.length, (n) => n >= served + 100, 20_000);
    const result = await load.stop();
    console.log(`killed worker ${victim}; workers now ${replaced.workers}; ${result.ok} answered, ${result.failed} failed (connections the killed worker held: ${result.errors.slice(0, 3)})`);
    expect(replaced.pid).toBe(before.pid);
    expect(alive(victim)).toBe(false);
    // the replacement serves: fresh connections are handed to both workers in turn
    const fresh = [];
    for (let i = 0; i < 10; i++) fresh.push(await get(LISTEN_PORT));
    expect(fresh.every((h) => h.status === 200)).toBe(true);
    expect(Object.values(await totals()).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(counted);
  });

  it("workers: 1 serves in one process (no workers)", async () => {
    const singleDir = mkdtempSync(path.join(os.tmpdir(), "sy-bw1-"));
    const single = createBuiltinEngine({ dataDir: singleDir, listen: { host: "127.0.0.1", port: SINGLE_PORT }, workers: 1 });
    try {
      await single.start(configAt(SINGLE_PORT, serviceOf(three())));
      const p = await controlCall(path.join(singleDir, "builtin", "control.sock"), { cmd: "ping" });
      expect(p.ok && p.workers).toEqual([]);
      const hits = [];
      for (let i = 0; i < 30; i++) hits.push(await get(SINGLE_PORT));
      expect(countByReplica(hits)).toEqual({ w1: 10, w2: 10, w3: 10 });
      const stats = await single.stats();
      expect(stats.servers.reduce((n, s) => n + s.totalRequests, 0)).toBe(30);
    } finally {
      await single.stop();
      rmSync(singleDir, { recursive: true, force: true });
    }
  });

  it("its workers die with the primary (kill -9)", async () => {
    const p = await ping();
    process.kill(p.pid, "SIGKILL");
    await until("the workers gone", () => p.workers.filter(alive), (left) => left.length === 0, 10_000, 50);
    expect(p.workers.filter(alive)).toEqual([]);
  });
});
