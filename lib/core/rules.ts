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

/**
 * A route's host: an exact DNS name ("api.local") or a leading wildcard "*.suffix"
 * ("*.local": any name ending in ".local", at any depth, not "local" itself). Written
 * as HOSTNAME behind an optional literal "*.", so it cannot backtrack either.
 */
export const HOST_PATTERN = /^(?:\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export const hostPatternSchema = z
  .string()
  .max(255)
  .regex(HOST_PATTERN, "a host name such as tictactoe.local, or a wildcard such as *.local: lower-case letters, digits, '-' and '.'");

/** A listener's name (the balancer's ports are named listeners): a DNS label. */
export const listenerNameSchema = z.string().max(63).regex(DNS_LABEL, "a listener name: a lower-case letter, then letters, digits or '-' (at most 63)");

export const routeMatches = ["prefix", "exact"] as const;
export type RouteMatch = (typeof routeMatches)[number];

/** The highest explicit route priority (0 means "the rule's length", as in Traefik). */
export const MAX_ROUTE_PRIORITY = 100_000;

/** `priority: 0` (the default) means "the rule's length" (lib/core/route-match routePriority), as in Traefik. */
const routePriority = z.number().int().min(0).max(MAX_ROUTE_PRIORITY);

const unique = (items: readonly string[]) => new Set(items).size === items.length;

/**
 * One route of a service: requests for any of `hosts` (none: any host) whose path
 * is `path` (match "exact") or under it on a segment boundary (match "prefix").
 */
export const serviceRouteSchema = z
  .object({
    hosts: z.array(hostPatternSchema).max(32).default([]),
    path: urlPathSchema.default("/"),
    match: z.enum(routeMatches).default("prefix"),
    stripPrefix: z.boolean().default(false),
    priority: routePriority.default(0),
    /** the listeners (by name) this route is served on; absent: the default listener (BALANCER_PORT) */
    listeners: z.array(listenerNameSchema).min(1).max(16).optional(),
  })
  .strict()
  .refine((r) => unique(r.hosts), { message: "a host is listed twice", path: ["hosts"] })
  .refine((r) => r.listeners === undefined || unique(r.listeners), { message: "a listener is listed twice", path: ["listeners"] });

export type ServiceRoute = z.infer<typeof serviceRouteSchema>;
export type ServiceRouteInput = z.input<typeof serviceRouteSchema>;

/**
 * The single route of older versions (`rules.route`): still accepted as input and
 * turned into `routes: [one]`; on output it is the first route, read-only, for
 * readers that show one route (when `routes` is given, `route` is ignored).
 */
export const routeSchema = z.object({
  host: hostPatternSchema.nullable().default(null),
  pathPrefix: urlPathSchema.default("/"),
  stripPrefix: z.boolean().default(false),
  priority: routePriority.default(0),
});

export type LegacyRoute = z.infer<typeof routeSchema>;

/** An old single route as a route of the list. */
export function routeFromLegacy(r: LegacyRoute): ServiceRoute {
  return { hosts: r.host === null ? [] : [r.host], path: r.pathPrefix, match: "prefix", stripPrefix: r.stripPrefix, priority: r.priority };
}

/** A route of the list as the old single route (its first host; an exact path shows as its prefix). */
export function legacyView(r: ServiceRoute): LegacyRoute {
  return { host: r.hosts[0] ?? null, pathPrefix: r.path, stripPrefix: r.stripPrefix, priority: r.priority };
}

/** Two routes of one service that catch the same requests: same match, path (a prefix's trailing '/' aside) and a shared host. */
function sameRouteKeys(routes: readonly ServiceRoute[]): string | null {
  const seen = new Set<string>();
  for (const r of routes) {
    const path = r.match === "prefix" && r.path.length > 1 && r.path.endsWith("/") ? r.path.slice(0, -1) : r.path;
    for (const host of r.hosts.length === 0 ? ["*"] : r.hosts) {
      for (const listener of r.listeners ?? [""]) {
        const key = `${listener} ${host} ${r.match} ${path}`;
        if (seen.has(key)) return `${host === "*" ? "any host" : host} ${r.match === "exact" ? "=" : ""}${path}`;
        seen.add(key);
      }
    }
  }
  return null;
}

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
    route: routeSchema.optional(),
    routes: z.array(serviceRouteSchema).min(1, "at least one route").max(32).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const dup = r.routes ? sameRouteKeys(r.routes) : null;
    if (dup) ctx.addIssue({ code: "custom", path: ["routes"], message: `two routes catch the same requests (${dup})` });
  })
  .transform(({ route, routes, ...rest }) => {
    const list = routes ?? [routeFromLegacy(route ?? routeSchema.parse({}))];
    return { ...rest, routes: list, route: legacyView(list[0]) };
  });

export type Rules = z.infer<typeof rulesSchema>;
export type RulesInput = z.input<typeof rulesSchema>;

export const defaultRules = (): Rules => rulesSchema.parse({});

export const replicaWeightSchema = z.number().int().min(0).max(256);

/**
 * Rules as they are stored and answered: rulesSchema's output (`routes` always, `route`
 * the first of them in the legacy form), which its transform cannot show to
 * z.toJSONSchema. The OpenAPI document (lib/openapi) uses it for answers.
 */
export const rulesViewSchema = z.object({ ...rulesSchema.in.shape, routes: z.array(serviceRouteSchema), route: routeSchema });
