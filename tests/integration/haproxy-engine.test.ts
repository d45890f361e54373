/**
 * The HAProxy engine against a real haproxy 2.6 and real replica processes.
 * Listener 127.0.0.1:18081, replicas on 21300-21349 (data) / 21350-21399 (admin).
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema, type RulesInput } from "@/lib/core/rules";
import { createHaproxyEngine, type HaproxyEngine } from "@/lib/engines/haproxy";
import type { BalancerConfig, BalancerServer, BalancerService } from "@/lib/engines/types";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { adminPost, countByReplica, get, runLoad, startLoad, until, waitFor } from "../helpers/load";
import { applyOk, configAt, serverOf, within } from "../helpers/engine-config";

const LISTEN_PORT = 18081;
const DATA_BASE = 21300;
const ADMIN_BASE = 21350;

let dataDir: string;
let engine: HaproxyEngine;
const replicas: ReplicaProcess[] = [];


const serviceOf = (servers: BalancerServer[], rules: RulesInput = {}): BalancerService => ({ id: "svc-web", name: "web", rules: rulesSchema.parse(rules), servers });
const configOf = (service: BalancerService): BalancerConfig => configAt(LISTEN_PORT, service);

/** The service as the tests last applied it (kept in step with runtime changes). */
let current: BalancerService;

async function applyService(service: BalancerService) {
  await applyOk(engine, configOf(service));
  current = service;
}
const statOf = async (name: string) => (await engine.stats()).servers.find((s) => s.server === name);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-hx-"));
  for (let i = 0; i < 4; i++) {
    replicas.push(await startReplica({ port: DATA_BASE + i, adminPort: ADMIN_BASE + i, id: `w${i + 1}`, memoryLimitMb: 128, service: "web" }));
  }
  engine = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT }, mode: "supervised" });
  current = serviceOf(replicas.slice(0, 3).map((r) => serverOf(r)));
  await engine.start(configOf(current));
  await waitFor("three servers UP", async () => (await engine.stats()).servers.filter((s) => s.health.status === "up").length === 3);
});

afterAll(async () => {
  await engine?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("haproxy engine (real haproxy)", () => {
  it("starts a supervised master and reports its status", async () => {
    const status = await engine.status();
    expect(status).toMatchObject({ kind: "haproxy", running: true, mode: "supervised", adopted: false, listen: { host: "127.0.0.1", port: LISTEN_PORT } });
    expect(status.version).toMatch(/^2\.6/);
    expect(status.pid).toBeGreaterThan(0);
    expect(await engine.liveConfig()).toContain(`bind 127.0.0.1:${LISTEN_PORT}`);
  });

  it("round robin spreads 300 requests evenly", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const hits = [];
    for (let i = 0; i < 300; i++) hits.push(await get(LISTEN_PORT, { agent }));
    agent.destroy();
    const counts = countByReplica(hits);
    console.log("round robin counts", counts);
    expect(hits.every((h) => h.status === 200)).toBe(true);
    expect(Object.keys(counts).sort()).toEqual(["w1", "w2", "w3"]);
    for (const n of Object.values(counts)) expect(within(n, 100, 0.1)).toBe(true);
    const stats = await engine.stats();
    expect(stats.servers.map((s) => s.server).sort()).toEqual(["r-w1", "r-w2", "r-w3"]);
    expect(stats.servers.reduce((sum, s) => sum + s.responses["2xx"], 0)).toBeGreaterThanOrEqual(300);
  });

  it("takes a replica whose /health fails out of rotation without failing a request, and back after clear", async () => {
    const victim = replicas[0];
    const { intervalMs, fall } = current.rules.healthCheck;
    const load = startLoad(LISTEN_PORT, { concurrency: 4, durationMs: 30_000, maxRequests: 200_000 });
    await waitFor("the load to reach the victim", () => load.hits.some((h) => h.replica === victim.id));
    const stressedAt = Date.now();
    await adminPost(victim.adminPort, victim.token, "/admin/stress/memory", { mb: 110 });
    const down = await until("haproxy to report the victim DOWN", () => statOf(`r-${victim.id}`), (s) => s?.health.status === "down", 10_000);
    const downAt = Date.now();
    // from the moment haproxy says DOWN, no request sent may reach the victim
    await waitFor("100 requests sent after DOWN", () => load.hits.filter((h) => h.sentAt > downAt).length >= 100);
    const result = await load.stop();
    const afterDown = result.hits.filter((h) => h.sentAt > downAt);
    const lateHits = afterDown.filter((h) => h.replica === victim.id).length;
    const limit = intervalMs * fall + 1000;
    console.log(`health: down ${downAt - stressedAt} ms after stress (limit ${limit}), ok=${result.ok} failed=${result.failed}, victim hits among ${afterDown.length} sent after DOWN: ${lateHits}`, result.byReplica);
    expect(result.failed).toBe(0);
    expect(downAt - stressedAt).toBeLessThanOrEqual(limit);
    expect(lateHits).toBe(0);
    expect(down?.health.reason).toMatch(/L7STS 503/);

    await adminPost(victim.adminPort, victim.token, "/admin/clear", {});
    const clearedAt = Date.now();
    await until("haproxy to report the victim UP again", () => statOf(`r-${victim.id}`), (s) => s?.health.status === "up", 5000);
    console.log(`health: back UP ${Date.now() - clearedAt} ms after clear`);
    const after = await runLoad(LISTEN_PORT, { concurrency: 2, durationMs: 500, maxRequests: 60 });
    expect(after.byReplica[victim.id]).toBeGreaterThan(0);
  });

  it("cookie stickiness keeps a client on one replica, and moves it when that replica goes to maint", async () => {
    await applyService(serviceOf(current.servers, { sticky: { mode: "cookie", cookieName: "SYSTICKY" } }));
    let cookie = "";
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) {
      const hit = await get(LISTEN_PORT, { cookie });
      for (const c of hit.setCookie) if (c.startsWith("SYSTICKY=")) cookie = c.split(";")[0];
      seen.push(hit.replica ?? "?");
    }
    expect(cookie).toMatch(/^SYSTICKY=[0-9a-f]+$/);
    expect(cookie).not.toContain("127.0.0.1");
    expect(new Set(seen).size).toBe(1);
    const stuck = seen[0];

    await engine.setServerState(current, `r-${stuck}`, "maint");
    const moved: string[] = [];
    for (let i = 0; i < 10; i++) {
      const hit = await get(LISTEN_PORT, { cookie });
      for (const c of hit.setCookie) if (c.startsWith("SYSTICKY=")) cookie = c.split(";")[0];
      moved.push(hit.replica ?? "?");
    }
    console.log("cookie: stuck on", stuck, "then", moved);
    expect(moved).not.toContain(stuck);
    expect(new Set(moved.slice(1)).size).toBe(1);
    expect(await engine.liveConfig()).toMatch(new RegExp(`server r-${stuck} .* disabled`));
    await engine.setServerState(current, `r-${stuck}`, "ready");
  });

  it("source_hash keeps each client address on one replica", async () => {
    await applyService(serviceOf(current.servers, { algorithm: "source_hash" }));
    const chosen = new Map<string, Set<string>>();
    for (let a = 2; a <= 9; a++) {
      const localAddress = `127.0.0.${a}`;
      const set = new Set<string>();
      for (let i = 0; i < 10; i++) set.add((await get(LISTEN_PORT, { localAddress })).replica ?? "?");
      chosen.set(localAddress, set);
    }
    console.log("source_hash", Object.fromEntries([...chosen].map(([k, v]) => [k, [...v].join(",")])));
    for (const set of chosen.values()) expect(set.size).toBe(1);
    expect(new Set([...chosen.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
  });

  it("adds and removes servers through the runtime API under load without a failed request", async () => {
    await applyService(serviceOf(current.servers, {}));
    const load = startLoad(LISTEN_PORT, { concurrency: 4, durationMs: 30_000, maxRequests: 200_000 });
    await waitFor("the load to be running", () => load.hits.length >= 50);
    const added = serverOf(replicas[3]);
    await engine.addServer(current, added);
    current = { ...current, servers: [...current.servers, added] };
    await until("w4 UP", () => statOf("r-w4"), (s) => s?.health.status === "up", 5000);
    await waitFor("w4 to serve some of the load", () => load.hits.some((h) => h.replica === "w4"));
    await engine.setServerState(current, "r-w1", "drain");
    await until("the drained w1 to finish what it had in flight", () => statOf("r-w1"), (s) => s?.activeConnections === 0);
    await engine.removeServer(current, "r-w1");
    const removedAt = Date.now();
    current = { ...current, servers: current.servers.filter((s) => s.name !== "r-w1") };
    await waitFor("100 requests sent after the removal", () => load.hits.filter((h) => h.sentAt > removedAt).length >= 100);
    const result = await load.stop();
    console.log(`add/remove: ok=${result.ok} failed=${result.failed}`, result.byReplica, result.errors);
    expect(result.failed).toBe(0);
    expect(result.byReplica.w4).toBeGreaterThan(0);
    const names = (await engine.stats()).servers.map((s) => s.server).sort();
    expect(names).toEqual(["r-w2", "r-w3", "r-w4"]);
    // The live file follows runtime changes, so a reload or restart keeps them.
    const live = (await engine.liveConfig()) ?? "";
    expect(live).toContain("server r-w4 127.0.0.1:21303");
    expect(live).not.toContain("server r-w1 ");
  });

  it("applies five times under load without a failed request, keeping drain and weights", async () => {
    const load = startLoad(LISTEN_PORT, { concurrency: 4, durationMs: 30_000, maxRequests: 200_000 });
    await waitFor("the load to be running", () => load.hits.length >= 50);
    const timeouts = [30_000, 31_000, 32_000, 33_000, 34_000];
    const servers = current.servers.map((s) => (s.name === "r-w2" ? { ...s, weight: 3 } : s.name === "r-w3" ? { ...s, adminState: "drain" as const } : s));
    const started = Date.now();
    for (const serverMs of timeouts) {
      await applyService(serviceOf(servers, { timeouts: { serverMs } }));
      await new Promise((r) => setTimeout(r, 400)); // paces the applies through the load
    }
    const applyMs = Date.now() - started - timeouts.length * 400;
    const result = await load.stop();
    console.log(`five applies (${applyMs} ms of apply in all): ok=${result.ok} failed=${result.failed}`, result.byReplica, result.errors);
    expect(result.failed).toBe(0);
    const stats = (await engine.stats()).servers;
    expect(stats.find((s) => s.server === "r-w3")?.health.status).toBe("drain");
    const rows = await engine.runtime.showStat();
    expect(rows.find((r) => r.svname === "r-w2")?.weight).toBe("3");
    expect(rows.find((r) => r.svname === "r-w3")?.weight).toBe("1");
    await applyService(serviceOf(current.servers.map((s) => ({ ...s, weight: 1, adminState: "ready" as const }))));
  });

  it("refuses a config haproxy -c rejects: live file unchanged, traffic flows", async () => {
    const before = await engine.liveConfig();
    const config = configOf(current);
    const broken = engine.render(config).replace("    balance roundrobin\n", "    balance roundrobin\n    bogus-keyword 42\n");
    const result = await engine.apply(broken, config);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      console.log("rejected:", result.error);
      expect(result.error).toMatch(/bogus-keyword/);
      expect(result.error).toMatch(/ALERT/);
      expect(result.rolledBack).toBe(false);
    }
    expect(await engine.liveConfig()).toBe(before);
    const load = await runLoad(LISTEN_PORT, { concurrency: 2, durationMs: 500, maxRequests: 200 });
    expect(load.failed).toBe(0);
    expect(load.ok).toBeGreaterThan(0);
  });

  it("adopts the running master from a second engine object", async () => {
    const first = await engine.status();
    const second = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT }, mode: "supervised" });
    await second.start(configOf(current));
    const status = await second.status();
    expect(status).toMatchObject({ running: true, adopted: true, pid: first.pid });
    expect((await second.stats()).servers).toHaveLength(current.servers.length);
  });
});
