import { z } from "zod";
import { urlPathSchema } from "@/lib/core/rules";

/**
 * Live metrics as the collector computes them and the browser receives them
 * (socket.io "tick" once a second per watched service; "snapshot" on join).
 */

export type HealthStatus = "up" | "down" | "maint" | "drain" | "nocheck" | "unknown";

export type ReplicaTick = {
  replicaId: string;
  /** requests per second over the last interval */
  rps: number;
  /** errors per second by class: 4xx, 5xx responses and connection errors */
  errors: { "4xx": number; "5xx": number; conn: number };
  /** share of the service's requests in the last interval, 0..1 */
  share: number;
  /**
   * Latency in ms: percentiles of this interval's answers where the engine gives a
   * distribution (builtin, nginx), else null; avg as the engine keeps it (HAProxy's
   * rtime: the average of its last 1024 requests; nginx: a moving average), else null.
   */
  latency: { p50: number | null; p95: number | null; p99: number | null; avg: number | null };
  /**
   * This interval's answers per latency bucket (upper bound in ms, "+Inf" last -> count),
   * non-zero buckets and the one below each (its lower edge), so a page can take
   * percentiles over any window of ticks;
   * absent when the engine gives no distribution.
   */
  latencyBuckets?: Record<string, number>;
  activeConnections: number;
  health: { status: HealthStatus; reason: string | null; lastChangeMs: number | null };
  /** the engine sends it traffic: up (or nocheck) and admin state ready */
  inRotation: boolean;
  memoryMb: number | null;
  memoryLimitMb: number | null;
  /** the runtime holds the replica to memoryLimitMb (Docker; the process runtime with a cgroup of its own); null: no stats */
  memoryLimitEnforced?: boolean | null;
  cpuPercent: number | null;
  /** the server's stats-table figures as its engine reports them (absent when the engine does not list it) */
  server?: ServerFigures;
  /**
   * The collector's history only (never sent): of an older tick's `server`, which it drops
   * to hold less (issue 18: the panel's RSS), the one figure read across ticks, the retries
   * counter (lib/rollout/gates.ts).
   */
  serverRetries?: number;
};

/**
 * One server's row of a stats table (HAProxy's stats page, NGINX Plus's upstreams tab):
 * cumulative figures since the engine's last start or reload (HAProxy) or since the panel
 * started counting (nginx's log, the builtin proxy). null: this engine cannot say.
 */
export type ServerFigures = {
  /** the engine's server name */
  name: string;
  sessions: { current: number | null; max: number | null; limit: number | null };
  queue: { current: number | null; max: number | null };
  requests: number;
  bytes: { in: number | null; out: number | null };
  responses: { "1xx": number; "2xx": number; "3xx": number; "4xx": number; "5xx": number; other: number };
  connectionErrors: number;
  retries: number;
  redispatches: number;
  /** the last health check's duration, failed checks, transitions to down */
  check: { durationMs: number | null; failures: number | null; downTransitions: number | null };
  downtimeS: number | null;
  weight: number;
  /** where weight and admin state come from: the engine itself, or the panel's record of what it told the engine */
  weightFrom: "engine" | "panel";
  adminState: "ready" | "drain" | "maint";
};

export type ServiceTick = {
  /** ms since epoch, whole seconds */
  t: number;
  serviceId: string;
  rps: number;
  errors: { "4xx": number; "5xx": number; conn: number };
  latency: { p50: number | null; p95: number | null; p99: number | null };
  replicas: ReplicaTick[];
  /** the service's desired replica count at this tick (what the slider or the autoscaler asked for) */
  desired?: number;
};

/** Per-client view of the traffic generator (who served each simulated client). */
export type TrafficStatus = {
  /** the service this run belongs to (set on live pushes) */
  serviceId?: string;
  running: boolean;
  startedAt: number | null;
  endsAt: number | null;
  settings: TrafficSettings | null;
  sent: number;
  ok: number;
  failed: number;
  /** clientId -> replicaId -> count */
  servedBy: Record<string, Record<string, number>>;
  /** clientId -> last replica that served it */
  lastReplica: Record<string, string | null>;
  lastError: string | null;
};

export type TrafficSettings = {
  rps: number;
  concurrency: number;
  path: string;
  durationS: number;
  clients: number;
  /** each client from its own loopback source address 127.0.0.x (source-IP stickiness) */
  distinctSourceIps: boolean;
};

/** Bounds of the traffic generator: it always stops by itself. */
export const trafficSettingsSchema = z
  .object({
    rps: z.number().int().min(1).max(1000).default(50),
    concurrency: z.number().int().min(1).max(64).default(8),
    path: urlPathSchema.default("/"),
    durationS: z.number().int().min(1).max(600).default(60),
    clients: z.number().int().min(1).max(50).default(8),
    distinctSourceIps: z.boolean().default(true),
  })
  .strict();

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

const errorClassesSchema = z.object({ "4xx": z.number(), "5xx": z.number(), conn: z.number() });
const nullableNumber = z.number().nullable();

/** One server's stats-table row (ServerFigures). */
export const serverFiguresSchema = z.object({
  name: z.string(),
  sessions: z.object({ current: nullableNumber, max: nullableNumber, limit: nullableNumber }),
  queue: z.object({ current: nullableNumber, max: nullableNumber }),
  requests: z.number(),
  bytes: z.object({ in: nullableNumber, out: nullableNumber }),
  responses: z.object({ "1xx": z.number(), "2xx": z.number(), "3xx": z.number(), "4xx": z.number(), "5xx": z.number(), other: z.number() }),
  connectionErrors: z.number(),
  retries: z.number(),
  redispatches: z.number(),
  check: z.object({ durationMs: nullableNumber, failures: nullableNumber, downTransitions: nullableNumber }),
  downtimeS: nullableNumber,
  weight: z.number(),
  weightFrom: z.enum(["engine", "panel"]),
  adminState: z.enum(["ready", "drain", "maint"]),
});

export const replicaTickSchema = z.object({
  replicaId: z.string(),
  rps: z.number(),
  errors: errorClassesSchema,
  share: z.number(),
  latency: z.object({ p50: nullableNumber, p95: nullableNumber, p99: nullableNumber, avg: nullableNumber }),
  latencyBuckets: z.record(z.string(), z.number()).optional(),
  activeConnections: z.number(),
  health: z.object({ status: z.enum(["up", "down", "maint", "drain", "nocheck", "unknown"]), reason: z.string().nullable(), lastChangeMs: nullableNumber }),
  inRotation: z.boolean(),
  memoryMb: nullableNumber,
  memoryLimitMb: nullableNumber,
  memoryLimitEnforced: z.boolean().nullable().optional(),
  cpuPercent: nullableNumber,
  server: serverFiguresSchema.optional(),
});

export const serviceTickSchema = z.object({
  t: z.number(),
  serviceId: z.string(),
  rps: z.number(),
  errors: errorClassesSchema,
  latency: z.object({ p50: nullableNumber, p95: nullableNumber, p99: nullableNumber }),
  replicas: z.array(replicaTickSchema),
  desired: z.number().optional(),
});

/** The traffic generator's state for one service (TrafficStatus). */
export const trafficStatusSchema = z.object({
  serviceId: z.string().optional(),
  running: z.boolean(),
  startedAt: nullableNumber,
  endsAt: nullableNumber,
  settings: z
    .object({ rps: z.number(), concurrency: z.number(), path: z.string(), durationS: z.number(), clients: z.number(), distinctSourceIps: z.boolean() })
    .nullable(),
  sent: z.number(),
  ok: z.number(),
  failed: z.number(),
  servedBy: z.record(z.string(), z.record(z.string(), z.number())),
  lastReplica: z.record(z.string(), z.string().nullable()),
  lastError: z.string().nullable(),
});
