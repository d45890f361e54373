import { z } from "zod";
import { listenerNameSchema } from "./rules";
/**
 * "Try a URL", pure: which route, and so which service, a URL reaches, with the
 * path its replica receives. The same matcher every engine follows (route-match).
 */
import { normalizeHost, pathOf, stripPathPrefix } from "./balancing";
import { describeRouteOf, matchRoute, orderRoutes, routePriority, routeTakes, type Route } from "./route-match";

export type TriedRoute = { service: string; route: number; describes: string; match: "prefix" | "exact"; priority: number; stripPrefix: boolean };

export type TryResult = {
  host: string | null;
  path: string;
  /** the route that takes the request, or null: the balancer answers 503 */
  reached: (TriedRoute & { upstreamPath: string }) | null;
  /** every route that takes the request, in the order they are tried (the first is `reached`) */
  candidates: TriedRoute[];
};

/** A URL ("http://api.local:8080/x?y", "api.local/x", or a path "/x") as host and request target, or an error message. */
export function parseTryUrl(input: string): { host: string | null; target: string } | { error: string } {
  const text = input.trim();
  if (text.length === 0 || text.length > 2048) return { error: "give a URL such as http://api.local/api/users (at most 2048 characters)" };
  if (text.startsWith("/")) return { host: null, target: text };
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { error: `not a URL: ${text.slice(0, 80)}` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { error: "only http and https URLs go through the balancer" };
  return { host: url.host, target: `${url.pathname}${url.search}` };
}

function tried(r: Route & { stripPrefix?: boolean }): TriedRoute {
  return { service: r.service, route: (r.index ?? 0) + 1, describes: describeRouteOf(r), match: r.match, priority: routePriority(r), stripPrefix: r.stripPrefix === true };
}

/** Which of `routes` a request for `hostHeader` and `target` reaches (on `listener`, when given). */
export function tryRoute<R extends Route & { stripPrefix?: boolean }>(routes: readonly R[], hostHeader: string | null, target: string, listener?: string): TryResult {
  const host = normalizeHost(hostHeader ?? undefined);
  const path = pathOf(target);
  const hit = matchRoute(routes, host, path, listener);
  const candidates = orderRoutes(routes.filter((r) => routeTakes(r, host, path, listener))).map(tried);
  return {
    host,
    path,
    reached: hit ? { ...tried(hit), upstreamPath: hit.stripPrefix ? stripPathPrefix(target, hit.path) : target } : null,
    candidates,
  };
}

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

const triedRouteSchema = z.object({
  service: z.string(),
  route: z.number().int(),
  describes: z.string(),
  match: z.enum(["prefix", "exact"]),
  priority: z.number(),
  stripPrefix: z.boolean(),
});

/** POST /api/routes/try: the URL asked about and where it goes (TryResult). */
export const tryResultSchema = z.object({
  url: z.string(),
  host: z.string().nullable(),
  path: z.string(),
  reached: triedRouteSchema.extend({ upstreamPath: z.string() }).nullable(),
  candidates: z.array(triedRouteSchema),
});

/** POST /api/routes/try: a URL, and the listener it arrives on (the default one when absent). */
export const tryRequestSchema = z.object({ url: z.string().max(2048), listener: listenerNameSchema.optional() }).strict();
