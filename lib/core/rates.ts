/** Pure helpers for turning cumulative counters into rates and percentiles. */

/** Delta of a cumulative counter, tolerant of resets (engine reload): a decrease means it restarted from 0. */
export function counterDelta(prev: number | undefined, cur: number): number {
  if (prev === undefined) return 0;
  return cur >= prev ? cur - prev : cur;
}

export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, Infinity];

/** The bucket keys every engine reports (upper bound in ms, "+Inf" last): the builtin proxy's and nginx's. */
export const LATENCY_BUCKET_KEYS: readonly string[] = LATENCY_BUCKETS_MS.map((b) => (b === Infinity ? "+Inf" : String(b)));

/** The key of the bucket `ms` falls in: the first bound >= ms, else "+Inf". */
export function latencyBucketKey(ms: number): string {
  for (const b of LATENCY_BUCKETS_MS) if (ms <= b) return b === Infinity ? "+Inf" : String(b);
  return "+Inf";
}

/** A zero count for every bucket key. */
export const emptyLatencyBuckets = (): Record<string, number> => Object.fromEntries(LATENCY_BUCKET_KEYS.map((k) => [k, 0]));

const bucketBound = (k: string): number => (k === "+Inf" || k === "Infinity" ? Infinity : Number(k));

/** Where the q-th sample sits: its bucket's bounds, the samples below the bucket, the bucket's count and the rank. */
function locate(buckets: Record<string, number>, q: number): { lower: number; upper: number; seen: number; count: number; rank: number } | null {
  const entries = Object.entries(buckets)
    .map(([k, v]) => [bucketBound(k), v] as const)
    .filter(([k]) => !Number.isNaN(k))
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, v]) => s + v, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (const [upper, count] of entries) {
    if (count > 0 && seen + count >= rank) return { lower, upper, seen, count, rank };
    seen += count;
    lower = upper;
  }
  return { lower, upper: lower, seen, count: 0, rank };
}

/**
 * Percentile from per-bucket counts (key = upper bound in ms, "+Inf" for the last).
 * Linear interpolation inside the bucket; null when there is no sample.
 */
export function percentileFromBuckets(buckets: Record<string, number>, q: number): number | null {
  const at = locate(buckets, q);
  if (!at) return null;
  if (at.count === 0 || at.upper === Infinity) return at.lower;
  const within = (at.rank - at.seen) / at.count;
  return Math.round((at.lower + (at.upper - at.lower) * within) * 10) / 10;
}

/**
 * The bucket a percentile falls in: what a distribution in buckets can say for sure
 * (the p95 of answers all near 300 ms is "250-500 ms"; interpolation would say 487).
 * Null when there is no sample.
 */
export function percentileBucket(buckets: Record<string, number>, q: number): { lower: number; upper: number } | null {
  const at = locate(buckets, q);
  return at ? { lower: at.lower, upper: at.upper } : null;
}

export function bucketDelta(prev: Record<string, number> | undefined, cur: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  let reset = false;
  if (prev) for (const k of Object.keys(cur)) if ((cur[k] ?? 0) < (prev[k] ?? 0)) reset = true;
  for (const k of Object.keys(cur)) out[k] = !prev || reset ? (prev ? cur[k] : 0) : cur[k] - (prev[k] ?? 0);
  return out;
}

/**
 * The buckets worth sending: each non-zero one, and the one just below it, whose bound
 * is its lower edge (percentileFromBuckets interpolates between the two; without it a
 * lone "500" bucket would read as 0-500 ms instead of 250-500 ms).
 */
export function sparseBuckets(buckets: Record<string, number>): Record<string, number> {
  const keys = Object.keys(buckets).sort((a, b) => bucketBound(a) - bucketBound(b));
  const out: Record<string, number> = {};
  keys.forEach((k, i) => {
    if ((buckets[k] ?? 0) > 0 || (buckets[keys[i + 1]] ?? 0) > 0) out[k] = buckets[k];
  });
  return out;
}

export function addBuckets(into: Record<string, number>, add: Record<string, number>): void {
  for (const [k, v] of Object.entries(add)) into[k] = (into[k] ?? 0) + v;
}

/** A fixed-size ring of points, oldest first when read. */
export class Ring<T> {
  private items: T[] = [];
  constructor(private readonly size: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.splice(0, this.items.length - this.size);
  }
  last(n: number): T[] {
    return this.items.slice(-n);
  }
  /** the newest item, or undefined */
  newest(): T | undefined {
    return this.items[this.items.length - 1];
  }
  /** replace the newest item (no-op when empty) */
  replaceNewest(item: T): void {
    if (this.items.length > 0) this.items[this.items.length - 1] = item;
  }
  get length(): number {
    return this.items.length;
  }
}

/** A server's cumulative counters as an engine reports them (ServerStats' counting part). */
export type ServerCounters = {
  totalRequests: number;
  responses: { "1xx": number; "2xx": number; "3xx": number; "4xx": number; "5xx": number; other: number };
  connectionErrors: number;
  retries: number;
  redispatches: number;
  latencyBuckets?: Record<string, number>;
};

export type ServerDeltas = {
  total: number;
  responses: ServerCounters["responses"];
  connectionErrors: number;
  retries: number;
  redispatches: number;
  /** this interval's answers per latency bucket; null when the engine gives no distribution */
  buckets: Record<string, number> | null;
};

const RESPONSE_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;

/**
 * What happened since the last reading, tolerant of an engine reload: when any count went
 * down, the engine restarted its counters from 0, and every current count is new. The
 * dashboard's rates and the Prometheus counters both come from these deltas (one source).
 */
export function serverDeltas(prev: ServerCounters | undefined, cur: ServerCounters): ServerDeltas {
  const reset =
    prev !== undefined &&
    (cur.totalRequests < prev.totalRequests ||
      cur.connectionErrors < prev.connectionErrors ||
      cur.retries < prev.retries ||
      cur.redispatches < prev.redispatches ||
      RESPONSE_CLASSES.some((c) => cur.responses[c] < prev.responses[c]));
  const d = (p: number | undefined, c: number) => (prev === undefined ? 0 : reset ? c : counterDelta(p, c));
  const responses = Object.fromEntries(RESPONSE_CLASSES.map((c) => [c, d(prev?.responses[c], cur.responses[c])])) as ServerCounters["responses"];
  return {
    total: d(prev?.totalRequests, cur.totalRequests),
    responses,
    connectionErrors: d(prev?.connectionErrors, cur.connectionErrors),
    retries: d(prev?.retries, cur.retries),
    redispatches: d(prev?.redispatches, cur.redispatches),
    buckets: cur.latencyBuckets ? bucketDelta(prev?.latencyBuckets, cur.latencyBuckets) : null,
  };
}

/** The counting part of a reading, copied (an engine may reuse its objects between readings). */
export function serverCountersOf(st: ServerCounters): ServerCounters {
  return {
    totalRequests: st.totalRequests,
    responses: { ...st.responses },
    connectionErrors: st.connectionErrors,
    retries: st.retries,
    redispatches: st.redispatches,
    ...(st.latencyBuckets ? { latencyBuckets: { ...st.latencyBuckets } } : {}),
  };
}
