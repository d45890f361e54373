/**
 * Route matching and the one route order, pure. Every engine (HAProxy's
 * use_backend list, nginx's server blocks and locations, the builtin proxy,
 * Traefik's router priorities), the UI and the "try a URL" box follow it, and
 * tests/integration/engine-contract.test.ts checks the real engines against
 * matchRoute below.
 *
 * The order is Traefik's: a route's priority is its explicit `priority` when set
 * (> 0), else the length of its rule as a Traefik user writes it (ruleText): the
 * longer, more specific rule wins. Higher priority is tried first; ties go by service name,
 * then by the route's place in its service's list. `priority: 1` on "/" therefore
 * makes a catch-all the last resort.
 */
import { barePrefix, pathHasPrefix } from "./balancing";
import type { RouteMatch } from "./rules";

/** A route as the matcher sees it: one entry of a service's `rules.routes`, with its service. */
export type Route = {
  /** the service this route leads to */
  service: string;
  /** exact names and "*.suffix" wildcards (lower case); empty: any host */
  hosts: readonly string[];
  path: string;
  match: RouteMatch;
  /** 0: the rule's length (routePriority) */
  priority: number;
  /** its place in its service's list (0 first); ties of priority and service go by it */
  index?: number;
  /** listener names; absent: the default listener */
  listeners?: readonly string[];
};

/** The name the default listener (BALANCER_PORT) goes by until listeners have names of their own. */
export const DEFAULT_LISTENER = "default";

/** Does host pattern `pattern` ("a.local" or "*.local") take host `host` (a normalizeHost result)? */
export function hostMatches(pattern: string, host: string | null): boolean {
  if (host === null) return false;
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1); // ".local"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/** Does the route take requests for `host`? A route without hosts takes any host, none included. */
export function routeTakesHost(route: Pick<Route, "hosts">, host: string | null): boolean {
  return route.hosts.length === 0 || route.hosts.some((p) => hostMatches(p, host));
}

/** Does the route take `path` (no query)? Exact: the same string; prefix: on a segment boundary. */
export function routeTakesPath(route: Pick<Route, "path" | "match">, path: string): boolean {
  return route.match === "exact" ? path === route.path : pathHasPrefix(path, route.path);
}

/** The listeners a route is served on (the default listener when it names none). */
export function routeListeners(route: Pick<Route, "listeners">): readonly string[] {
  return route.listeners && route.listeners.length > 0 ? route.listeners : [DEFAULT_LISTENER];
}

/** Go regexp (Traefik's HostRegexp) for a "*.suffix" wildcard: one or more labels before the suffix. */
export function wildcardRegexp(pattern: string): string {
  return `^[a-z0-9-]+(\\.[a-z0-9-]+)*${pattern.slice(1).replace(/\./g, "\\.")}$`;
}

/** The Traefik matcher for one host pattern. */
export function hostRule(pattern: string): string {
  return pattern.startsWith("*.") ? `HostRegexp(\`${wildcardRegexp(pattern)}\`)` : `Host(\`${pattern}\`)`;
}

/**
 * The path matcher Traefik is given. Traefik's PathPrefix is a plain string prefix
 * ("/api" matches "/apix"); routes match whole segments, so a prefix "/api" is
 * exported as Path(`/api`) || PathPrefix(`/api/`).
 */
export function exportPathRule(route: Pick<Route, "path" | "match">): string {
  if (route.match === "exact") return `Path(\`${route.path}\`)`;
  const p = barePrefix(route.path);
  return p === "/" ? "PathPrefix(`/`)" : `(Path(\`${p}\`) || PathPrefix(\`${p}/\`))`;
}

function withHosts(route: Pick<Route, "hosts">, path: string): string {
  if (route.hosts.length === 0) return path;
  const hosts = route.hosts.map(hostRule);
  return `${hosts.length === 1 ? hosts[0] : `(${hosts.join(" || ")})`} && ${path}`;
}

/**
 * The route's rule as a Traefik user writes it: Host(`a`) || HostRegexp(...) for its
 * hosts, && PathPrefix(`/api`) or Path(`/x`) (a prefix's trailing '/' left out). Its
 * length is the route's default priority, as in Traefik.
 */
export function ruleText(route: Pick<Route, "hosts" | "path" | "match">): string {
  return withHosts(route, route.match === "exact" ? `Path(\`${route.path}\`)` : `PathPrefix(\`${barePrefix(route.path)}\`)`);
}

/** The rule the Traefik export writes: ruleText with the whole-segment prefix (exportPathRule). */
export function exportRuleText(route: Pick<Route, "hosts" | "path" | "match">): string {
  return withHosts(route, exportPathRule(route));
}

/**
 * The number routes are ordered by, higher first: the explicit priority, else the
 * length of the rule (ruleText), as in Traefik: the longer, more specific rule wins.
 */
export function routePriority(route: Pick<Route, "hosts" | "path" | "match" | "priority">): number {
  return route.priority > 0 ? route.priority : ruleText(route).length;
}

/** Negative when `a` is tried before `b`: higher routePriority, then service name, then place in the service's list. */
export function compareRoutes(a: Route, b: Route): number {
  const byPriority = routePriority(b) - routePriority(a);
  if (byPriority !== 0) return byPriority;
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return (a.index ?? 0) - (b.index ?? 0);
}

/** The routes in the order they are tried (compareRoutes); a new array. */
export function orderRoutes<R extends Route>(routes: readonly R[]): R[] {
  return [...routes].sort(compareRoutes);
}

/** Does the route take this request (host, path, and listener when one is given)? */
export function routeTakes(route: Route, host: string | null, path: string, listener?: string): boolean {
  if (listener !== undefined && !routeListeners(route).includes(listener)) return false;
  return routeTakesHost(route, host) && routeTakesPath(route, path);
}

/**
 * The route for a request, or null: of the routes that take it, the first in
 * compareRoutes order. `host` is a normalizeHost result, `path` has no query; with
 * `listener`, only routes served on that listener count.
 */
export function matchRoute<R extends Route>(routes: readonly R[], host: string | null, path: string, listener?: string): R | null {
  let best: R | null = null;
  for (const r of routes) {
    if (!routeTakes(r, host, path, listener)) continue;
    if (best === null || compareRoutes(r, best) < 0) best = r;
  }
  return best;
}

/** Every route of every service, as the matcher sees them, with the extra fields of each route kept. */
export function routesOfServices<E extends { hosts: readonly string[]; path: string; match: RouteMatch; priority: number; listeners?: readonly string[] }>(
  services: readonly { name: string; rules: { routes: readonly E[] } }[],
): (Route & { entry: E })[] {
  return services.flatMap((s) => s.rules.routes.map((entry, index) => ({ ...entry, service: s.name, index, entry })));
}

/** "api.local, *.local /api/v1" or "any host =/login": a route in a line. */
export function describeRouteOf(route: Pick<Route, "hosts" | "path" | "match">): string {
  return `${route.hosts.length === 0 ? "any host" : route.hosts.join(", ")} ${route.match === "exact" ? "=" : ""}${route.path}`;
}

/** A request the route takes: its first host (a wildcard gets "www" in front; none: null) and its path. */
export function exampleRequest(route: Pick<Route, "hosts" | "path">): { host: string | null; path: string } {
  const h = route.hosts[0];
  return { host: h === undefined ? null : h.startsWith("*.") ? `www${h.slice(1)}` : h, path: route.path };
}
