import { z } from "zod";

/**
 * The engine-neutral rules model. Every string that can end up in a config
 * file is constrained by a strict pattern here, before any renderer sees it;
 * renderers may rely on that and never escape free text.
 */

export const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/**
 * URL path: starts with '/', only unreserved characters and '/', no '//' or dot segments.
 * Written so it cannot backtrack: every segment but the last must end in '/', and a '.'
 * always starts a new run, so each character has exactly one way to match (the old
 * `(segment\/?)*` took seconds on 28 characters; tests/unit/patterns-redos.test.ts).
 */
export const URL_PATH = /^\/(?:[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*\/)*(?:[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)?$/;
export const COOKIE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export const algorithms = ["round_robin", "least_conn", "random_two", "source_hash", "uri_hash"] as const;
export type Algorithm = (typeof algorithms)[number];

export const retryConditions = ["conn_failure", "empty_response", "response_timeout", "status_502", "status_503", "status_504"] as const;
export type RetryCondition = (typeof retryConditions)[number];

export const adminStates = ["ready", "drain", "maint"] as const;
export type AdminState = (typeof adminStates)[number];

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const urlPathSchema = z
  .string()
  .max(256, "at most 256 characters")
  .regex(URL_PATH, "a path such as /api/v1: letters, digits, '-', '_', '~', '.' between '/' only");

export const stickySchema = z.object({
  mode: z.enum(["none", "cookie", "source"]).default("none"),
  cookieName: z.string().regex(COOKIE_NAME, "a cookie name: a letter, then letters, digits, '-' or '_' (at most 64)").default("SYSTICKY"),
  maxAgeS: z.number().int().min(0).max(31_536_000).default(0),
});

export const healthCheckSchema = z
  .object({
    path: urlPathSchema.default("/health"),
    intervalMs: ms(100, 60_000).default(500),
    timeoutMs: ms(50, 60_000).default(1000),
    rise: z.number().int().min(1).max(20).default(2),
    fall: z.number().int().min(1).max(20).default(2),
    expectStatus: z.number().int().min(100).max(599).default(200),
  })
  .refine((h) => h.timeoutMs <= Math.max(h.intervalMs * 4, 1000), { message: "timeoutMs is too long for intervalMs", path: ["timeoutMs"] });

export const passiveSchema = z.object({
  maxFails: z.number().int().min(0).max(100).default(3),
  failTimeoutMs: ms(1000, 600_000).default(10_000),
});

export const retriesSchema = z.object({
  count: z.number().int().min(0).max(10).default(2),
  redispatch: z.boolean().default(true),
  on: z.array(z.enum(retryConditions)).max(retryConditions.length).default(["conn_failure", "empty_response", "response_timeout", "status_503"]),
});

export const timeoutsSchema = z.object({
  connectMs: ms(100, 60_000).default(2000),
  serverMs: ms(100, 3_600_000).default(30_000),
  clientMs: ms(100, 3_600_000).default(30_000),
});

export const routeSchema = z.object({
  host: z
    .string()
    .max(253)
    .regex(HOSTNAME, "a host name such as tictactoe.local: lower-case letters, digits, '-' and '.'")
    .nullable()
    .default(null),
  pathPrefix: urlPathSchema.default("/"),
  stripPrefix: z.boolean().default(false),
  priority: z.number().int().min(0).max(1000).default(0),
});

export const rulesSchema = z
  .object({
    algorithm: z.enum(algorithms).default("round_robin"),
    sticky: stickySchema.prefault({}),
    healthCheck: healthCheckSchema.prefault({}),
    passive: passiveSchema.prefault({}),
    retries: retriesSchema.prefault({}),
    timeouts: timeoutsSchema.prefault({}),
    drainTimeoutMs: ms(0, 3_600_000).default(30_000),
    slowStartMs: ms(0, 600_000).default(0),
    route: routeSchema.prefault({}),
  })
  .strict();

export type Rules = z.infer<typeof rulesSchema>;
export type RulesInput = z.input<typeof rulesSchema>;

export const defaultRules = (): Rules => rulesSchema.parse({});

export const replicaWeightSchema = z.number().int().min(0).max(256);
