import { z } from "zod";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import { serviceTickSchema } from "@/lib/core/metrics";

/**
 * The charts' time ranges (issue 12, item 10). The last 5 minutes are the live
 * 1-second points; longer ranges come from the 1-minute points the collector stores
 * (MetricPoint: per replica, requests/s, errors/s, p95, memory, the fraction of the
 * minute it was up), put in buckets so a chart never draws more than ~300 points.
 * Pure: no I/O.
 */
export const TIME_RANGES = {
  "5m": { label: "5 min", ms: 5 * 60_000, bucketMs: 1000, stored: false },
  "15m": { label: "15 min", ms: 15 * 60_000, bucketMs: 60_000, stored: true },
  "1h": { label: "1 h", ms: 60 * 60_000, bucketMs: 60_000, stored: true },
  "24h": { label: "24 h", ms: 24 * 60 * 60_000, bucketMs: 5 * 60_000, stored: true },
} as const;

export type TimeRange = keyof typeof TIME_RANGES;
export const TIME_RANGE_KEYS = Object.keys(TIME_RANGES) as TimeRange[];
export const timeRangeSchema = z.enum(["5m", "15m", "1h", "24h"]);
/** The ranges read from stored minute points. */
export const storedRangeSchema = z.enum(["15m", "1h", "24h"]);
export type StoredRange = z.infer<typeof storedRangeSchema>;

/** One stored minute of one replica, as the read API hands it over (`at`: the minute's start, ms). */
export type StoredPoint = {
  at: number;
  replicaId: string;
  rps: number;
  /** 5xx responses and connection errors per second (the collector stores them together) */
  errors: number;
  p95Ms: number | null;
  memoryMb: number | null;
  /** fraction of the minute the replica was in rotation, 0..1 */
  healthy: number;
};

type Acc = { n: number; rps: number; errors: number; p95: number | null; memSum: number; memN: number; healthy: number };

/**
 * Stored minute points between `from` (inclusive) and `to` (exclusive), in buckets of
 * `bucketMs` aligned to multiples of it, turned into ticks the live charts can draw.
 * Per replica and bucket: requests/s, errors/s, memory and the up-fraction are the
 * means of its minutes in the bucket; p95 is the worst minute's (a mean of p95s is no
 * percentile). A replica is "in rotation" in a bucket when it was up at least half of
 * it. Stored errors are not split by class: they sit in the 5xx field, 4xx and
 * connection errors are 0 (the page says so for these ranges).
 */
export function bucketStoredPoints(serviceId: string, points: readonly StoredPoint[], opts: { from: number; to: number; bucketMs: number }): ServiceTick[] {
  const buckets = new Map<number, Map<string, Acc>>();
  for (const p of points) {
    if (p.at < opts.from || p.at >= opts.to) continue;
    const t = Math.floor(p.at / opts.bucketMs) * opts.bucketMs;
    let byReplica = buckets.get(t);
    if (!byReplica) buckets.set(t, (byReplica = new Map()));
    let a = byReplica.get(p.replicaId);
    if (!a) byReplica.set(p.replicaId, (a = { n: 0, rps: 0, errors: 0, p95: null, memSum: 0, memN: 0, healthy: 0 }));
    a.n++;
    a.rps += p.rps;
    a.errors += p.errors;
    if (p.p95Ms !== null) a.p95 = Math.max(a.p95 ?? 0, p.p95Ms);
    if (p.memoryMb !== null) {
      a.memSum += p.memoryMb;
      a.memN++;
    }
    a.healthy += p.healthy;
  }
  const ticks: ServiceTick[] = [];
  for (const t of [...buckets.keys()].sort((x, y) => x - y)) {
    const replicas: ReplicaTick[] = [];
    for (const [replicaId, a] of buckets.get(t)!) {
      const healthy = a.healthy / a.n;
      const up = healthy >= 0.5;
      replicas.push({
        replicaId,
        rps: a.rps / a.n,
        errors: { "4xx": 0, "5xx": a.errors / a.n, conn: 0 },
        share: 0,
        latency: { p50: null, p95: a.p95, p99: null, avg: null },
        activeConnections: 0,
        health: { status: up ? "up" : "down", reason: healthy < 1 ? `in rotation ${Math.round(healthy * 100)}% of the time` : null, lastChangeMs: null },
        inRotation: up,
        memoryMb: a.memN ? a.memSum / a.memN : null,
        memoryLimitMb: null,
        cpuPercent: null,
      });
    }
    const rps = replicas.reduce((s, r) => s + r.rps, 0);
    for (const r of replicas) r.share = rps > 0 ? r.rps / rps : 0;
    ticks.push({
      t,
      serviceId,
      rps,
      errors: { "4xx": 0, "5xx": replicas.reduce((s, r) => s + r.errors["5xx"], 0), conn: 0 },
      latency: { p50: null, p95: null, p99: null },
      replicas,
    });
  }
  return ticks;
}

/**
 * The top of a stacked requests chart: the highest of each tick's service total and
 * the sum of its replicas' bands (they differ when an engine counts a request on more
 * than one replica, e.g. a retry), so the stack never runs off the top.
 */
export function stackedTop(history: readonly ServiceTick[]): number {
  let top = 0;
  for (const t of history) {
    let sum = 0;
    for (const r of t.replicas) sum += Math.max(0, r.rps);
    top = Math.max(top, t.rps, sum);
  }
  return top;
}

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

/** GET /api/services/:id/metrics: the stored minute points of a range, bucketed, as ticks. */
export const metricsHistorySchema = z.object({
  range: storedRangeSchema,
  from: z.number(),
  to: z.number(),
  bucketMs: z.number(),
  history: z.array(serviceTickSchema),
});
