/**
 * The builtin engine (a Node reverse proxy in its own process) against real
 * replica processes: algorithms, weights, stickiness, health checks, retries,
 * hitless applies. Listener 127.0.0.1:18082, replicas on 21500-21509 (data) and
 * 21550-21559 (admin).
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RulesInput, rulesSchema } from "@/lib/core/rules";
import { type BuiltinEngine, createBuiltinEngine } from "@/lib/engines/builtin";
import type { BalancerConfig, BalancerServer, BalancerService } from "@/lib/engines/types";
import { type ReplicaProcess, startReplica } from "../helpers/replica-process";
import { adminPost, countByReplica, get, runLoad, startLoad, until, waitFor } from "../helpers/load";
import { applyOk, configAt, serverOf, within } from "../helpers/engine-config";

const LISTEN_PORT = 18082;
const DATA_BASE = 21500;
const ADMIN_BASE = 21550;

let dataDir: string;
let engine: BuiltinEngine;
const replicas: ReplicaProcess[] = [];


/** Fast checks so the tests do not wait: interval 300 ms, fall 2, rise 2. */
const fastChecks = { healthCheck: { intervalMs: 300, timeoutMs: 500, fall: 2, rise: 2 } } satisfies RulesInput;

const serviceOf = (servers: BalancerServer[], rules: RulesInput = {}): BalancerService => ({
  id: "svc-web",
  name: "web",
  rules: rulesSchema.parse({ ...fastChecks, ...rules }),
  servers,
});
const configOf = (service: BalancerService): BalancerConfig => configAt(LISTEN_PORT, service);

/** The service as the tests last applied it. */
let current: BalancerService;

async function applyService(service: BalancerService) {
  await applyOk(engine, configOf(service));
  current = service;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statOf = async (name: string) => (await engine.stats()).servers.find((s) => s.server === name);
const threeReady = () => replicas.slice(0, 3).map((r) => serverOf(r));

/** `n` sequential requests on one keep-alive connection. */
async function sequential(n: number, opts: { path?: string; localAddress?: string } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const hits = [];
  try {
    for (let i = 0; i < n; i++) hits.push(await get(LISTEN_PORT, { agent, ...opts }));
  } finally {
    agent.destroy();
  }
  return hits;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-bt-"));
  for (let i = 0; i < 4; i++) {
    replicas.push(await startReplica({ port: DATA_BASE + i, adminPort: ADMIN_BASE + i, id: `b${i + 1}`, memoryLimitMb: 128, service: "web" }));
  }
  engine = createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT } });
  current = serviceOf(threeReady());
  await engine.start(configOf(current));
});

afterAll(async () => {
  await engine?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("builtin engine (own process, real replicas)", () => {
  it("starts the proxy process and reports its status", async () => {
    const status = await engine.status();
    expect(status).toMatchObject({ kind: "builtin", running: true, mode: "supervised", adopted: false, listen: { host: "127.0.0.1", port: LISTEN_PORT } });
    expect(status.version).toMatch(/^switchyard-builtin \d+\.\d+\.\d+/);
    expect(status.pid).toBeGreaterThan(0);
    expect(status.pid).not.toBe(process.pid);
    expect(status.location).toBe(path.join(dataDir, "builtin", "config.json"));
    expect(await engine.liveConfig()).toBe(engine.render(configOf(current)));
  });

  it("round robin spreads 300 requests evenly (within 10%)", async () => {
    const hits = await sequential(300);
    const counts = countByReplica(hits);
    console.log("round robin counts", counts);
    expect(hits.every((h) => h.status === 200)).toBe(true);
    expect(Object.keys(counts).sort()).toEqual(["b1", "b2", "b3"]);
    for (const n of Object.values(counts)) expect(within(n, 100, 0.1)).toBe(true);
    const stats = await engine.stats();
    expect(stats.servers.map((s) => s.server).sort()).toEqual(["r-b1", "r-b2", "r-b3"]);
    const total = stats.servers.reduce((sum, s) => sum + s.responses["2xx"], 0);
    expect(total).toBeGreaterThanOrEqual(300);
    const buckets = stats.servers[0].latencyBuckets!;
    expect(Object.keys(buckets)).toEqual(["1", "2", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "+Inf"]);
    expect(Object.values(buckets).reduce((a, b) => a + b, 0)).toBe(stats.servers[0].responses["2xx"]);
  });

  it("follows weights (3:1:0) exactly with smooth weighted round robin", async () => {
    const [a, b, c] = replicas;
    await applyService(serviceOf([serverOf(a, { weight: 3 }), serverOf(b, { weight: 1 }), serverOf(c, { weight: 0 })]));
    const counts = countByReplica(await sequential(200));
    console.log("weights 3:1:0", counts);
    expect(counts).toEqual({ b1: 150, b2: 50 });
    await engine.setWeight(current, "r-b3", 4);
    await engine.setWeight(current, "r-b1", 4);
    await engine.setWeight(current, "r-b2", 0);
    const after = countByReplica(await sequential(80));
    console.log("after setWeight 4:0:4", after);
    expect(Object.keys(after).sort()).toEqual(["b1", "b3"]);
    expect(Math.abs(after.b1 - after.b3)).toBeLessThanOrEqual(2);
    expect(await engine.liveConfig()).toContain('"weight": 0');
    await applyService(serviceOf(threeReady()));
  });

  it("least_conn sends quick requests to the replica without slow ones in flight", async () => {
    await applyService(serviceOf(threeReady(), { algorithm: "least_conn" }));
    // two slow requests occupy two replicas (least_conn puts the second on another one); each
    // is sent once the proxy shows the one before it in flight
    const inFlight = async () => (await engine.stats()).servers.filter((s) => s.activeConnections > 0).map((s) => s.server);
    const slowRequest = () => get(LISTEN_PORT, { path: "/work?ms=2000", timeoutMs: 20_000 });
    const slowA = slowRequest();
    await until("the first slow request in flight", inFlight, (busy) => busy.length === 1);
    const slowB = slowRequest();
    await until("two replicas with a slow request in flight", inFlight, (busy) => busy.length === 2);
    const quick = await sequential(20);
    const slowHits = await Promise.all([slowA, slowB]);
    const slowIds = slowHits.map((h) => h.replica);
    const quickCounts = countByReplica(quick);
    const quickEnd = Math.max(...quick.map((h) => h.at));
    console.log("least_conn: slow on", slowIds, "quick", quickCounts, `(the quick ones ended ${Math.min(...slowHits.map((h) => h.at)) - quickEnd} ms before the first slow one)`);
    expect(quickEnd, "the quick requests ended while both slow ones were in flight").toBeLessThan(Math.min(...slowHits.map((h) => h.at)));
    expect(new Set(slowIds).size).toBe(2);
    expect(Object.keys(quickCounts)).toHaveLength(1);
    expect(slowIds).not.toContain(Object.keys(quickCounts)[0]);
  });

  it("source_hash keeps each client address (127.0.0.2-9) on one replica", async () => {
    await applyService(serviceOf(threeReady(), { algorithm: "source_hash" }));
    const chosen = new Map<string, Set<string>>();
    for (let a = 2; a <= 9; a++) {
      const localAddress = `127.0.0.${a}`;
      chosen.set(localAddress, new Set((await sequential(10, { localAddress })).map((h) => h.replica ?? "?")));
    }
    console.log("source_hash", Object.fromEntries([...chosen].map(([k, v]) => [k, [...v].join(",")])));
    for (const set of chosen.values()) expect(set.size).toBe(1);
    expect(new Set([...chosen.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
  });

  it("uri_hash keeps a path on one replica and spreads paths", async () => {
    await applyService(serviceOf(threeReady(), { algorithm: "uri_hash" }));
    const perPath = new Map<string, Set<string>>();
    for (let p = 0; p < 12; p++) {
      const hits = await sequential(4, { path: `/work?ms=0&p=${p}` });
      // the query is not part of the key: every /work request lands on one replica
      perPath.set(`q${p}`, new Set(hits.map((h) => h.replica ?? "?")));
    }
    expect(new Set([...perPath.values()].flatMap((s) => [...s])).size).toBe(1);
    const byPath = new Set<string>();
    for (const p of ["/", "/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h"]) {
      const hits = await sequential(3, { path: p });
      expect(new Set(hits.map((h) => h.replica)).size).toBe(1);
      byPath.add(hits[0].replica ?? "?");
    }
    expect(byPath.size).toBeGreaterThan(1);
  });

  it("random_two serves from every replica", async () => {
    await applyService(serviceOf(threeReady(), { algorithm: "random_two" }));
    const counts = countByReplica(await sequential(150));
    console.log("random_two", counts);
    expect(Object.keys(counts).sort()).toEqual(["b1", "b2", "b3"]);
  });

  it("cookie stickiness holds a client, and moves it (with a new cookie) when its replica goes to maint", async () => {
    await applyService(serviceOf(threeReady(), { sticky: { mode: "cookie", cookieName: "SYSTICKY", maxAgeS: 600 } }));
    let cookie = "";
    const first = await get(LISTEN_PORT);
    const setCookie = first.setCookie.find((c) => c.startsWith("SYSTICKY="));
    expect(setCookie).toBe(`SYSTICKY=${first.replica}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600`);
    cookie = setCookie!.split(";")[0];
    const seen: string[] = [];
    let reSet = 0;
    for (let i = 0; i < 30; i++) {
      const hit = await get(LISTEN_PORT, { cookie });
      if (hit.setCookie.length) reSet++;
      seen.push(hit.replica ?? "?");
    }
    expect(new Set(seen)).toEqual(new Set([first.replica]));
    expect(reSet).toBe(0);

    const stuck = first.replica!;
    await engine.setServerState(current, `r-${stuck}`, "maint");
    const moved: string[] = [];
    for (let i = 0; i < 10; i++) {
      const hit = await get(LISTEN_PORT, { cookie });
      for (const c of hit.setCookie) if (c.startsWith("SYSTICKY=")) cookie = c.split(";")[0];
      moved.push(hit.replica ?? "?");
    }
    console.log("cookie: stuck on", stuck, "then", moved);
    expect(moved).not.toContain(stuck);
    expect(new Set(moved).size).toBe(1);
    expect(cookie).toBe(`SYSTICKY=${moved[0]}`);
    expect((await statOf(`r-${stuck}`))?.health.status).toBe("maint");
    await engine.setServerState(current, `r-${stuck}`, "ready");
    // back to ready: the client stays where it was moved
    expect((await get(LISTEN_PORT, { cookie })).replica).toBe(moved[0]);
  });

  it("drain takes no new requests", async () => {
    await applyService(serviceOf(threeReady()));
    await engine.setServerState(current, "r-b2", "drain");
    const counts = countByReplica(await sequential(60));
    expect(counts.b2).toBeUndefined();
    expect((await statOf("r-b2"))?.health.status).toBe("drain");
    await engine.setServerState(current, "r-b2", "ready");
  });

  it("takes a replica whose /health fails (memory stress) out of rotation without failing a request, and back after clear", async () => {
    await applyService(serviceOf(threeReady()));
    const victim = replicas[0];
    const { intervalMs, fall } = current.rules.healthCheck;
    const load = startLoad(LISTEN_PORT, { concurrency: 4, durationMs: 30_000, maxRequests: 200_000 });
    await waitFor("the load to reach the victim", () => load.hits.some((h) => h.replica === victim.id));
    const stressedAt = Date.now();
    await adminPost(victim.adminPort, victim.token, "/admin/stress/memory", { mb: 110 });
    await until("the proxy to report the victim DOWN", () => statOf(`r-${victim.id}`), (s) => s?.health.status === "down", 5000);
    const downAt = Date.now();
    const downMs = downAt - stressedAt;
    // from the moment the proxy says DOWN, no request sent may reach the victim
    await waitFor("100 requests sent after DOWN", () => load.hits.filter((h) => h.sentAt > downAt).length >= 100);
    const result = await load.stop();
    const afterDown = result.hits.filter((h) => h.sentAt > downAt);
    const lateHits = afterDown.filter((h) => h.replica === victim.id).length;
    const down = await statOf(`r-${victim.id}`);
    console.log(`health: down ${downMs} ms after stress (limit ${intervalMs * fall + 1000}), ok=${result.ok} failed=${result.failed}, victim hits among ${afterDown.length} sent after DOWN: ${lateHits}`, result.byReplica, down?.health);
    expect(result.failed).toBe(0);
    expect(downMs).toBeLessThanOrEqual(intervalMs * fall + 1000);
    expect(lateHits).toBe(0);
    expect(down?.health.reason).toBe("HTTP 503");

    await adminPost(victim.adminPort, victim.token, "/admin/clear", {});
    const clearedAt = Date.now();
    await until("the proxy to report the victim UP again", () => statOf(`r-${victim.id}`), (s) => s?.health.status === "up", 5000);
    console.log(`health: back UP ${Date.now() - clearedAt} ms after clear`);
    const after = countByReplica(await sequential(30));
    expect(after[victim.id]).toBeGreaterThan(0);
  });

  it("slow start ramps a newly added server's share", async () => {
    const slowStartMs = 4000;
    await applyService(serviceOf(threeReady().slice(0, 2).map((s) => ({ ...s, weight: 10 })), { slowStartMs }));
    // the two it starts with must be past a ramp of their own (b1 came back up in the test before)
    const upFor = async () => (await engine.stats()).servers.map((s) => ({ server: s.server, status: s.health.status, upMs: s.health.lastChangeMs }));
    await until("the first two servers up for a whole ramp", upFor, (list) => list.length === 2 && list.every((s) => s.status === "up" && (s.upMs ?? 0) >= slowStartMs), slowStartMs + 5000, 100);
    const added = serverOf(replicas[2], { weight: 10 });
    const addingAt = Date.now(); // the ramp starts after this ...
    await engine.addServer(current, added);
    const addedAt = Date.now(); // ... and before this
    current = { ...current, servers: [...current.servers, added] };
    // Requests sent in the first half of the ramp, when the new server has at most half its weight
    // (5 of 25): up to 60, and at least 20 so a loaded machine cannot make the sample meaningless.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const earlyHits = [];
    try {
      while (earlyHits.length < 60 && Date.now() < addingAt + slowStartMs / 2) earlyHits.push(await get(LISTEN_PORT, { agent }));
    } finally {
      agent.destroy();
    }
    const early = countByReplica(earlyHits);
    // the ramp is defined in wall time: full weight slowStartMs after the server joined
    await sleep(Math.max(0, addedAt + slowStartMs - Date.now()));
    const late = countByReplica(await sequential(60));
    console.log(`slow start: addServer took ${addedAt - addingAt} ms; ${earlyHits.length} requests in the first half of the ramp (${earlyHits.length ? earlyHits[earlyHits.length - 1].at - addingAt : 0} ms)`, early, "after the ramp", late);
    expect(earlyHits.length, "requests sent in the first half of the ramp").toBeGreaterThanOrEqual(20);
    expect((early.b3 ?? 0) / earlyHits.length).toBeLessThan(0.2); // a third at full weight
    expect(within(late.b3 ?? 0, 20, 0.15)).toBe(true);
  });

  it("adds and removes servers under load without a failed request", async () => {
    await applyService(serviceOf(threeReady()));
    const load = startLoad(LISTEN_PORT, { concurrency: 4, durationMs: 30_000, maxRequests: 200_000 });
    await waitFor("the load to be running", () => load.hits.length >= 50);
    const added = serverOf(replicas[3]);
    await engine.addServer(current, added);
    current = { ...current, servers: [...current.servers, added] };
    await waitFor("the added server to serve some of the load", () => load.hits.some((h) => h.replica === "b4"));
    await engine.setServerState(current, "r-b1", "drain");
    await until("the drained server to finish what it had in flight", () => statOf("r-b1"), (s) => s?.activeConnections === 0);
    await engine.removeServer(current, "r-b1");
    const removedAt = Date.now();
    current = { ...current, servers: current.servers.filter((s) => s.name !== "r-b1") };
    await waitFor("100 requests sent after the removal", () => load.hits.filter((h) => h.sentAt > removedAt).length >= 100);
    const result = await load.stop();
    console.log(`add/remove: ok=${result.ok} failed=${result.failed}`, result.byReplica, result.errors);
    expect(result.failed).toBe(0);
    expect(result.byReplica.b4).toBeGreaterThan(0);
    expect((await engine.stats()).servers.map((s) => s.server).sort()).toEqual(["r-b2", "r-b3", "r-b4"]);
    const live = (await engine.liveConfig()) ?? "";
    expect(live).toContain('"name": "r-b4"');
    expect(live).not.toContain('"name": "r-b1"');
  });

  it("applies five times under load without a failed request", async () => {
    await applyService(serviceOf(threeReady()));
    const load = startLoad(LISTEN_PORT, { concurrency: 4, durationMs: 30_000, maxRequests: 200_000 });
    await waitFor("the load to be running", () => load.hits.length >= 50);
    const algorithms = ["least_conn", "round_robin", "random_two", "source_hash", "round_robin"] as const;
    const started = Date.now();
    for (const [i, algorithm] of algorithms.entries()) {
      await applyService(serviceOf(threeReady(), { algorithm, timeouts: { serverMs: 30_000 + i * 1000 } }));
      await sleep(300); // paces the applies through the load
    }
    const applyMs = Date.now() - started - algorithms.length * 300;
    const result = await load.stop();
    console.log(`five applies (${applyMs} ms of apply in all): ok=${result.ok} failed=${result.failed}`, result.byReplica, result.errors);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
  });

  it("refuses an invalid config: live file unchanged, traffic flows", async () => {
    const before = await engine.liveConfig();
    const config = configOf(current);
    const broken = engine.render(config).replace('"algorithm": "round_robin"', '"algorithm": "fastest"');
    const result = await engine.apply(broken, config);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      console.log("rejected:", result.error);
      expect(result.error).toMatch(/algorithm/);
      expect(result.rolledBack).toBe(false);
    }
    expect(await engine.liveConfig()).toBe(before);
    expect((await runLoad(LISTEN_PORT, { concurrency: 2, durationMs: 300, maxRequests: 100 })).failed).toBe(0);
  });

  it("rolls back when the proxy does not report the expected servers after a load", async () => {
    const before = await engine.liveConfig();
    const names = current.servers.map((s) => s.name).sort();
    // the rendered text lacks the last server; the model the caller says it applied has them all plus a ghost
    const rendered = engine.render(configOf({ ...current, servers: current.servers.slice(0, -1) }));
    const claimed = configOf({ ...current, servers: [...current.servers, serverOf(replicas[0], { name: "r-ghost", replicaId: "ghost" })] });
    const result = await engine.apply(rendered, claimed);
    console.log("rollback:", result);
    expect(result).toMatchObject({ ok: false, rolledBack: true });
    if (!result.ok) expect(result.error).toMatch(/expected \[.*web\/r-ghost/);
    expect(await engine.liveConfig()).toBe(before);
    expect((await engine.stats()).servers.map((s) => s.server).sort()).toEqual(names);
  });

  it("kill -9 of a replica under load costs no client request (retries redispatch)", async () => {
    await applyService(serviceOf(threeReady().slice(1).concat(serverOf(replicas[3]))));
    const victim = replicas[3];
    const load = startLoad(LISTEN_PORT, { concurrency: 6, durationMs: 30_000, maxRequests: 200_000, path: "/work?ms=2" });
    await waitFor("the load to reach the victim", () => load.hits.some((h) => h.replica === victim.id));
    process.kill(victim.pid, "SIGKILL");
    await until("the proxy to mark the killed replica down", () => statOf(`r-${victim.id}`), (st) => st?.health.status === "down", 5000);
    const downAt = Date.now();
    await waitFor("100 requests sent after it went down", () => load.hits.filter((h) => h.sentAt > downAt).length >= 100);
    const result = await load.stop();
    const s = await statOf(`r-${victim.id}`);
    console.log(`kill -9: ok=${result.ok} failed=${result.failed}`, result.byReplica, result.errors, { connectionErrors: s?.connectionErrors, retries: s?.retries, redispatches: s?.redispatches, health: s?.health });
    expect(result.failed).toBe(0);
    expect(s?.health.status).toBe("down");
    expect(s?.health.reason ?? "").toMatch(/ECONNREFUSED|passive/);
    expect(s?.redispatches ?? 0).toBeGreaterThan(0);
  });
});
