import { describe, expect, it } from "vitest";
import { historyTick, snapshotHistory, serverFiguresOf } from "@/lib/controller/collector";
import { versionFigures } from "@/lib/rollout/gates";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";

const replica = (id: string, requests: number, retries = 0): ReplicaTick => ({
  replicaId: id,
  rps: 5,
  errors: { "4xx": 0, "5xx": 0, conn: 0 },
  share: 0.5,
  latency: { p50: null, p95: null, p99: null, avg: 3 },
  activeConnections: 0,
  health: { status: "up", reason: "L7OK 200: OK", lastChangeMs: 1000 },
  inRotation: true,
  memoryMb: 40,
  memoryLimitMb: 256,
  cpuPercent: 1,
  server: serverFiguresOf(
    { service: "svc", server: `s_${id}`, health: { status: "up", reason: null, lastChangeMs: null }, activeConnections: 0, totalRequests: requests, responses: { "1xx": 0, "2xx": requests, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 }, connectionErrors: 0, retries, redispatches: 0 },
    { weight: 100, adminState: "ready" },
  ),
});
const tick = (t: number): ServiceTick => ({ t, serviceId: "svc", rps: 10, errors: { "4xx": 0, "5xx": 0, conn: 0 }, latency: { p50: 3, p95: null, p99: null }, replicas: [replica("a", t), replica("b", t)], desired: 2 });

describe("snapshotHistory (what a new watcher gets)", () => {
  it("keeps the stats-table figures in the newest tick only, every other field as it was", () => {
    const ticks = [tick(1000), tick(2000), tick(3000)];
    const snap = snapshotHistory(ticks);
    expect(snap).toHaveLength(3);
    expect(snap[2]).toBe(ticks[2]);
    for (const t of snap.slice(0, 2)) for (const r of t.replicas) expect(r.server).toBeUndefined();
    const { server: _s, ...rest } = ticks[0].replicas[0];
    expect(snap[0].replicas[0]).toEqual(rest);
    expect(snap[0].t).toBe(1000);
    expect(ticks[0].replicas[0].server?.requests).toBe(1000); // the collector's own history is untouched
    expect(JSON.stringify(snap).length).toBeLessThan(JSON.stringify(ticks).length * 0.75);
  });

  it("is empty for no history", () => {
    expect(snapshotHistory([])).toEqual([]);
  });
});

describe("historyTick (an older tick as the collector's history keeps it)", () => {
  it("drops the stats-table figures but their retries counter, every other field as it was", () => {
    const t = { ...tick(1000), replicas: [replica("a", 1000, 7), replica("b", 1000, 0)] };
    const h = historyTick(t);
    for (const r of h.replicas) expect(r.server).toBeUndefined();
    expect(h.replicas.map((r) => r.serverRetries)).toEqual([7, 0]);
    const { server: _s, ...rest } = t.replicas[0];
    expect(h.replicas[0]).toEqual({ ...rest, serverRetries: 7 });
    expect({ ...h, replicas: [] }).toEqual({ ...t, replicas: [] });
    expect(t.replicas[0].server?.retries).toBe(7); // the tick handed in is not changed
    expect(JSON.stringify(h).length).toBeLessThan(JSON.stringify(t).length * 0.75);
    expect(historyTick(h)).toBe(h); // already slim
  });

  it("leaves what a new watcher gets and what the rollout gates count as they were", () => {
    // retries grow 0 -> 2 -> 5 on replica a: 5 failed attempts the balancer retried elsewhere
    const full = [1000, 2000, 3000].map((t, i) => ({ ...tick(t), replicas: [replica("a", t, [0, 2, 5][i]), replica("b", t, 0)] }));
    const kept = [...full.slice(0, 2).map(historyTick), full[2]];
    expect(snapshotHistory(kept)).toEqual(snapshotHistory(full));
    const side = (id: string) => (id === "a" ? ("new" as const) : ("old" as const));
    expect(versionFigures(kept, side)).toEqual(versionFigures(full, side));
    expect(versionFigures(kept, side).new.errors).toBe(5);
  });
});
