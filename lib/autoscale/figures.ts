import type { AutoscaleMetric } from "@/lib/core/autoscale";
import type { ServiceTick } from "@/lib/core/metrics";
import { addBuckets, percentileFromBuckets } from "@/lib/core/rates";

/**
 * A replica's figures over the last few ticks, from the collector's own ticks (one
 * source of truth with the charts: the balancer's counters and the runtime's stats).
 * Pure. A figure the ticks do not have is null (the decision counts it as missing):
 *  - rps: the average of its requests/s;
 *  - inflight: the average of the engine's current sessions to it;
 *  - p95: over the merged latency buckets of the window (no answers: null), else the
 *    average of the per-second p95s the engine gave;
 *  - cpu: the average CPU % the runtime gave; memory: the last memory as a % of its limit.
 */
export function replicaFigures(ticks: readonly ServiceTick[], replicaId: string, fallbackLimitMb: number): Record<AutoscaleMetric, number | null> {
  const mine = ticks.flatMap((t) => t.replicas.filter((r) => r.replicaId === replicaId));
  if (mine.length === 0) return { rps: null, inflight: null, p95: null, cpu: null, memory: null };
  const avg = (xs: (number | null)[]) => {
    const ok = xs.filter((x): x is number => x !== null && Number.isFinite(x));
    return ok.length ? ok.reduce((s, x) => s + x, 0) / ok.length : null;
  };
  const buckets: Record<string, number> = {};
  let hasBuckets = false;
  for (const r of mine) {
    if (r.latencyBuckets) {
      hasBuckets = true;
      addBuckets(buckets, r.latencyBuckets);
    }
  }
  const p95 = hasBuckets ? percentileFromBuckets(buckets, 0.95) : avg(mine.map((r) => r.latency.p95));
  const last = mine[mine.length - 1];
  const limit = last.memoryLimitMb ?? fallbackLimitMb;
  return {
    rps: avg(mine.map((r) => r.rps)),
    inflight: avg(mine.map((r) => r.activeConnections)),
    p95,
    cpu: avg(mine.map((r) => r.cpuPercent)),
    memory: last.memoryMb !== null && limit > 0 ? (last.memoryMb / limit) * 100 : null,
  };
}
