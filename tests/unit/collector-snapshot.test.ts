import { describe, expect, it } from "vitest";
import { snapshotHistory, serverFiguresOf } from "@/lib/controller/collector";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";

const replica = (id: string, requests: number): ReplicaTick => ({
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
    { service: "svc", server: `s_${id}`, health: { status: "up", reason: null, lastChangeMs: null }, activeConnections: 0, totalRequests: requests, responses: { "1xx": 0, "2xx": requests, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 }, connectionErrors: 0, retries: 0, redispatches: 0 },
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
