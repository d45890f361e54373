/**
 * p50/p95/p99 on HAProxy (issue 12, item 4): a real haproxy 2.6 sends one datagram per
 * request to the panel's UDP loopback port, and the engine's stats carry each server's
 * latency buckets from them. One of three real replica processes gets +300 ms injected:
 * its p95 must be >= 250 ms, the others' < 100 ms. Then the panel's receiver is closed
 * and a new engine adopts the running HAProxy (a panel restart): the records keep coming.
 * Listener 127.0.0.1:18362, replicas 26600-26602 (data) / 26700-26702 (admin), log port 18370.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { percentileFromBuckets } from "@/lib/core/rates";
import { createHaproxyEngine, type HaproxyEngine } from "@/lib/engines/haproxy";
import { acquireLogReceiver, releaseLogReceiver } from "@/lib/engines/haproxy/log-receiver";
import { SETTLE_MS } from "@/lib/engines/haproxy/log-format";
import type { BalancerService, ServerStats } from "@/lib/engines/types";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { adminPost, startLoad, until } from "../helpers/load";
import { configAt, serverOf } from "../helpers/engine-config";
import { hasBinary, needs } from "../helpers/requirements";

const LISTEN_PORT = 18362;
const DATA_BASE = 26600;
const ADMIN_BASE = 26700;
const LOG_PORT = 18370;

let dataDir: string;
let engine: HaproxyEngine;
let adopter: HaproxyEngine | null = null;
const replicas: ReplicaProcess[] = [];
let service: BalancerService;

const samples = (s: ServerStats | undefined): number => Object.values(s?.latencyBuckets ?? {}).reduce((a, b) => a + b, 0);
const figures = (s: ServerStats) => {
  const b = s.latencyBuckets ?? {};
  return { server: s.server, n: samples(s), p50: percentileFromBuckets(b, 0.5), p95: percentileFromBuckets(b, 0.95), p99: percentileFromBuckets(b, 0.99), rtimeAvg: s.avgResponseMs };
};

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("haproxy request log: p50/p95/p99 per server (real haproxy)", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-hxlog-"));
    // the panel's port, kept in the data folder (as a panel would have chosen it), so a restarted panel finds it
    writeFileSync(path.join(dataDir, "haproxy-log-port"), `${LOG_PORT}\n`, { mode: 0o600 });
    for (let i = 0; i < 3; i++) {
      replicas.push(await startReplica({ port: DATA_BASE + i, adminPort: ADMIN_BASE + i, id: `l${i + 1}`, memoryLimitMb: 128, service: "web" }));
    }
    service = { id: "svc-web", name: "web", rules: rulesSchema.parse({}), servers: replicas.map((r) => serverOf(r)) };
    engine = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT }, mode: "supervised" });
    await engine.start(configAt(LISTEN_PORT, service));
    await until("three servers UP", () => engine.stats(), (s) => s.servers.filter((x) => x.health.status === "up").length === 3, 10_000);
  }, 30_000);

  afterAll(async () => {
    await (adopter ?? engine)?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("renders the request log to the panel's port from the data folder", async () => {
    const live = await engine.liveConfig();
    expect(live).toContain(`log 127.0.0.1:${LOG_PORT} len 2048 format raw local0 info`);
    expect((await engine.status()).statsFeed).toMatchObject({ file: `udp://127.0.0.1:${LOG_PORT}` });
  });

  it("a replica with +300 ms has p95 >= 250 ms, the others < 100 ms; no record lost", async () => {
    const slow = replicas[0];
    await adminPost(slow.adminPort, slow.token, "/admin/faults", { latencyMs: 300 });
    const load = startLoad(LISTEN_PORT, { concurrency: 6, durationMs: 40_000, maxRequests: 20_000 });
    let stats: ServerStats[] = [];
    try {
      stats = (
        await until(
          "at least 60 log records for every server",
          () => engine.stats(),
          (s) => s.servers.length === 3 && s.servers.every((x) => samples(x) >= 60),
          30_000,
          200,
        )
      ).servers;
    } finally {
      const result = await load.stop();
      console.log(`load: ok=${result.ok} failed=${result.failed}`, result.byReplica);
    }
    await adminPost(slow.adminPort, slow.token, "/admin/clear", {});
    const rows = stats.map(figures);
    console.log("latency from HAProxy's request log (ms, bucket-interpolated):");
    console.table(rows);
    for (const row of rows) {
      if (row.server === `r-${slow.id}`) expect(row.p95).toBeGreaterThanOrEqual(250);
      else expect(row.p95).toBeLessThan(100);
    }

    // every request's record arrived: once the settle time has passed, nothing counts as lost
    const receiver = acquireLogReceiver({ host: "127.0.0.1", port: LOG_PORT });
    await releaseLogReceiver(receiver); // only a look: the engine still holds it
    await until("every request number judged (arrived or lost)", () => receiver.unsettled(), (n) => n === 0, SETTLE_MS * 3, 250);
    const feed = (await engine.status()).statsFeed!;
    console.log(`feed: records=${feed.records} lost=${feed.lost} gaps=${feed.gaps} detail=${feed.detail ?? "-"}`);
    expect(feed.records).toBeGreaterThanOrEqual(rows.reduce((a, r) => a + r.n, 0));
    expect(feed.lost).toBe(0);
    expect(feed.error).toBeUndefined();
  }, 90_000);

  it("an adopted HAProxy keeps feeding a restarted panel's receiver on the same port", async () => {
    // close the receiver as a panel exit would (the engine object holds one use of it)
    const shared = acquireLogReceiver({ host: "127.0.0.1", port: LOG_PORT });
    await releaseLogReceiver(shared);
    await releaseLogReceiver(shared);
    expect(shared.listening).toBe(false);

    adopter = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT }, mode: "supervised" });
    await adopter.start(configAt(LISTEN_PORT, service));
    const status = await adopter.status();
    expect(status.adopted).toBe(true);
    expect(status.statsFeed).toMatchObject({ records: 0, file: `udp://127.0.0.1:${LOG_PORT}` });
    const load = startLoad(LISTEN_PORT, { concurrency: 3, durationMs: 20_000, maxRequests: 5000 });
    try {
      const after = await until("records from the adopted HAProxy", () => adopter!.stats(), (s) => s.servers.every((x) => samples(x) >= 10), 15_000, 200);
      console.log("after adoption:");
      console.table(after.servers.map(figures));
    } finally {
      await load.stop();
    }
    expect((await adopter.status()).statsFeed!.records).toBeGreaterThanOrEqual(30);
  }, 60_000);
});
