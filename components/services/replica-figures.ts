import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import { addBuckets, percentileBucket } from "@/lib/core/rates";

/**
 * Which replica is failing, at a glance: its error rate by class and its latency,
 * from the live ticks. Pure, so the cards, the charts and the tests agree.
 */

export type ErrorCounts = ReplicaTick["errors"];
export type ErrorRates = { total: number; "4xx": number; "5xx": number; conn: number };

/**
 * Errors as fractions of the requests that met them. The denominator is the
 * requests the engine counted, or the errors when those are more: nginx counts a
 * connection error on a try it then sent elsewhere, not as a request of this replica.
 */
export function errorRates(requests: number, errors: ErrorCounts): ErrorRates | null {
  const all = errors["4xx"] + errors["5xx"] + errors.conn;
  const base = Math.max(requests, all);
  if (base <= 0) return null;
  return { total: all / base, "4xx": errors["4xx"] / base, "5xx": errors["5xx"] / base, conn: errors.conn / base };
}

/** The bucket a percentile lies in, ms (upper Infinity: past the last bound). */
export type BucketRange = { lower: number; upper: number };

/**
 * Latency figures a card shows: where the engine gives a distribution, the buckets the
 * percentiles over the window lie in (all a bucketed distribution can say for sure);
 * else the engine's own average.
 */
export type LatencyFigures = { kind: "percentiles"; p50: BucketRange; p95: BucketRange; p99: BucketRange } | { kind: "average"; avg: number };

export type ReplicaFigures = {
  /** seconds the figures cover (ticks inside the window) */
  seconds: number;
  requests: number;
  errors: ErrorCounts;
  rates: ErrorRates | null;
  latency: LatencyFigures | null;
};

/** The window the cards sum over: long enough that a 30 % fault reads as 30 %, short enough to follow a Clear. */
export const CARD_WINDOW_S = 10;

/** A replica's requests, errors by class and latency over the last `windowS` seconds of ticks. */
export function replicaFigures(history: readonly ServiceTick[], replicaId: string, windowS = CARD_WINDOW_S): ReplicaFigures {
  const last = history.length ? history[history.length - 1] : null;
  const errors: ErrorCounts = { "4xx": 0, "5xx": 0, conn: 0 };
  const buckets: Record<string, number> = {};
  let requests = 0;
  let seconds = 0;
  let hasBuckets = false;
  let latest: ReplicaTick | null = null;
  if (last) {
    for (let i = history.length - 1; i >= 0 && history[i].t > last.t - windowS * 1000; i--) {
      const r = history[i].replicas.find((x) => x.replicaId === replicaId);
      if (!r) continue;
      latest ??= r;
      seconds++;
      requests += r.rps;
      errors["4xx"] += r.errors["4xx"];
      errors["5xx"] += r.errors["5xx"];
      errors.conn += r.errors.conn;
      if (r.latencyBuckets) {
        hasBuckets = true;
        addBuckets(buckets, r.latencyBuckets);
      }
    }
  }
  let latency: LatencyFigures | null = null;
  if (hasBuckets) {
    const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => percentileBucket(buckets, q));
    if (p50 && p95 && p99) latency = { kind: "percentiles", p50, p95, p99 };
  } else if (latest?.latency.avg !== null && latest?.latency.avg !== undefined) {
    latency = { kind: "average", avg: latest.latency.avg };
  }
  return { seconds, requests, errors, rates: errorRates(requests, errors), latency };
}

/** "250–500 ms", "≤ 5 ms", "> 10000 ms". */
export function rangeText(r: BucketRange): string {
  if (r.upper === Infinity) return `> ${r.lower} ms`;
  if (r.lower === 0) return `≤ ${r.upper} ms`;
  return `${r.lower}–${r.upper} ms`;
}

/** What an engine's average is, said plainly: a short label and its explanation (a tooltip). */
export type AverageMeaning = { label: string; explain: string };

export function averageMeaning(engineKind: string): AverageMeaning {
  if (engineKind === "haproxy") return { label: "avg of last 1024 requests", explain: "HAProxy's own average over this server's last 1024 requests (rtime): it lags behind a change, and stays after the traffic stops. HAProxy gives no percentiles here." };
  if (engineKind === "nginx") return { label: "moving average", explain: "a moving average of the response times in nginx's access log" };
  return { label: "average", explain: "the engine's average response time; it gives no percentiles" };
}

/** One point per tick and replica for the charts: its error rate in % that second (null without requests). */
export function errorPercent(r: ReplicaTick): number | null {
  const rates = errorRates(r.rps, r.errors);
  return rates ? Math.round(rates.total * 1000) / 10 : null;
}

/**
 * What the per-replica latency chart plots: each second's p95 when the engine gives a
 * distribution (any replica has one in the history), else the engine's average. One
 * kind per chart, never a mix.
 */
export function chartLatencyKind(history: readonly ServiceTick[]): "p95" | "avg" {
  return history.some((t) => t.replicas.some((r) => r.latency.p95 !== null)) ? "p95" : "avg";
}
