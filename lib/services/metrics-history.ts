import { db } from "@/lib/db/client";
import { AppError } from "@/lib/core/errors";
import type { ServiceTick } from "@/lib/core/metrics";
import { bucketStoredPoints, TIME_RANGES, type StoredRange } from "@/lib/core/metric-history";

export type MetricsHistory = {
  range: StoredRange;
  /** the window, ms since epoch: [from, to) */
  from: number;
  to: number;
  /** the spacing of the points */
  bucketMs: number;
  history: ServiceTick[];
};

/**
 * A service's charts over a longer range than the live 5 minutes: the 1-minute points
 * the collector stores (MetricPoint, kept 7 days), put in buckets (1 minute up to an
 * hour, 5 minutes for a day: at most 288 points) and shaped as ticks, so the live
 * charts draw them as they are. The minute in progress is not stored yet.
 */
export async function readMetricsHistory(serviceId: string, range: StoredRange, now = Date.now()): Promise<MetricsHistory> {
  const service = await db().service.findUnique({ where: { id: serviceId }, select: { id: true } });
  if (!service) throw new AppError("not_found", `no service ${serviceId}`);
  const { ms, bucketMs } = TIME_RANGES[range];
  const from = now - ms;
  const rows = await db().metricPoint.findMany({
    where: { serviceId, at: { gte: new Date(from) } },
    orderBy: { at: "asc" },
    select: { at: true, replicaId: true, rps: true, errors: true, p95Ms: true, memoryMb: true, healthy: true },
  });
  const points = rows.map((r) => ({ ...r, at: r.at.getTime() }));
  return { range, from, to: now, bucketMs, history: bucketStoredPoints(serviceId, points, { from, to: now + 1, bucketMs }) };
}
