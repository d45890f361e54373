/**
 * Shadowed routes, pure: a route that can never be reached because routes
 * tried before it (lib/core/route-match order) always catch its requests first.
 * Preview reports them, apply refuses them unless forced (lib/services/apply-rules).
 */
import { barePrefix, pathHasPrefix } from "./balancing";
import { describeRouteOf, hostMatches, orderRoutes, routeListeners, type Route } from "./route-match";

/** Does host pattern `a` take every host pattern `b` takes? ("*.local" covers "x.local" and "*.a.local"; null: any host.) */
export function hostCovers(a: string | null, b: string | null): boolean {
  if (a === null) return true;
  if (b === null) return false;
  if (!b.startsWith("*.")) return hostMatches(a, b);
  if (!a.startsWith("*.")) return false;
  return a === b || b.endsWith(a.slice(1));
}

/** Does route `a`'s path take every path route `b`'s path takes? */
export function pathCovers(a: Pick<Route, "path" | "match">, b: Pick<Route, "path" | "match">): boolean {
  if (a.match === "exact") return b.match === "exact" && a.path === b.path;
  return pathHasPrefix(b.match === "exact" ? b.path : barePrefix(b.path), a.path);
}

/** Does `a` take every request `b` takes for host pattern `host` (null: any host) on `listener`? */
function coversPart(a: Route, b: Route, host: string | null, listener: string): boolean {
  if (!routeListeners(a).includes(listener)) return false;
  if (!pathCovers(a, b)) return false;
  return a.hosts.length === 0 || a.hosts.some((p) => hostCovers(p, host));
}

export type Shadowed<R extends Route> = {
  route: R;
  /** the routes, tried before it, that take all its requests (one per host and listener it has, without repeats) */
  by: R[];
};

/**
 * The routes no request can reach: for each of their hosts (and listeners) a
 * route tried before them takes every request they would. Routes come in any
 * order; the result follows the route order.
 */
export function shadowedRoutes<R extends Route>(routes: readonly R[]): Shadowed<R>[] {
  const ordered = orderRoutes(routes);
  const out: Shadowed<R>[] = [];
  ordered.forEach((b, i) => {
    const before = ordered.slice(0, i);
    const by: R[] = [];
    const hosts: (string | null)[] = b.hosts.length === 0 ? [null] : [...b.hosts];
    for (const listener of routeListeners(b)) {
      for (const host of hosts) {
        const a = before.find((r) => coversPart(r, b, host, listener));
        if (!a) return;
        if (!by.includes(a)) by.push(a);
      }
    }
    out.push({ route: b, by });
  });
  return out;
}

/** A route named for people: its service, its place in the service's list (1 first) and what it catches. */
export type RouteRef = { service: string; route: number; describes: string };

export type ShadowFinding = { shadowed: RouteRef; by: RouteRef[] };

function refOf(r: Route): RouteRef {
  return { service: r.service, route: (r.index ?? 0) + 1, describes: describeRouteOf(r) };
}

/**
 * The shadowed routes that concern service `focus`: its own routes that are hidden,
 * and other services' routes its routes hide. Other services' old shadows are left
 * out (a change to one service is not refused for another's).
 */
export function shadowFindings(routes: readonly Route[], focus: string): ShadowFinding[] {
  return shadowedRoutes(routes)
    .filter((s) => s.route.service === focus || s.by.some((b) => b.service === focus))
    .map((s) => ({ shadowed: refOf(s.route), by: s.by.map(refOf) }));
}

/** "route 2 of web (any host /api) is never reached: route 1 of all (any host /) catches its requests first" */
export function describeShadow(f: ShadowFinding): string {
  const by = f.by.map((b) => `route ${b.route} of ${b.service} (${b.describes})`).join(" and ");
  return `route ${f.shadowed.route} of ${f.shadowed.service} (${f.shadowed.describes}) is never reached: ${by} ${f.by.length > 1 ? "catch" : "catches"} its requests first`;
}
