import type { ServerStats } from "../types";

/** Upper bounds (ms) of the latency buckets every builtin server reports; the last is "+Inf". */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
export const LATENCY_BUCKET_KEYS: readonly string[] = [...LATENCY_BUCKETS_MS.map(String), "+Inf"];

export type ServerCounters = {
  totalRequests: number;
  responses: ServerStats["responses"];
  connectionErrors: number;
  retries: number;
  redispatches: number;
  /** counts per bucket, same order as LATENCY_BUCKET_KEYS */
  latency: number[];
};

export const newCounters = (): ServerCounters => ({
  totalRequests: 0,
  responses: { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 },
  connectionErrors: 0,
  retries: 0,
  redispatches: 0,
  latency: LATENCY_BUCKET_KEYS.map(() => 0),
});

/** Index of the bucket a duration falls in (a bucket holds durations <= its bound). */
export function latencyBucketIndex(ms: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]) return i;
  return LATENCY_BUCKETS_MS.length;
}

export function statusClass(status: number): keyof ServerStats["responses"] {
  if (status >= 100 && status < 200) return "1xx";
  if (status >= 200 && status < 300) return "2xx";
  if (status >= 300 && status < 400) return "3xx";
  if (status >= 400 && status < 500) return "4xx";
  if (status >= 500 && status < 600) return "5xx";
  return "other";
}

export function latencyRecord(counts: readonly number[]): Record<string, number> {
  return Object.fromEntries(LATENCY_BUCKET_KEYS.map((k, i) => [k, counts[i] ?? 0]));
}
