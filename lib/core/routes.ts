import { barePrefix } from "./balancing";
import { compareRoutes, describeRouteOf, routesOfServices, type Route } from "./route-match";
import { shadowedRoutes } from "./route-shadow";
import { routeFromLegacy, type LegacyRoute, type Rules, type ServiceRoute } from "./rules";

/** Anything that owns routes: a service, a balancer service, a row of the UI. */
export type Routed = { name: string; rules: Pick<Rules, "routes"> };

/** The routes of a rules value, or of an old single route. */
function routesIn(r: Pick<Rules, "routes"> | LegacyRoute): ServiceRoute[] {
  return "routes" in r ? r.routes : [routeFromLegacy(r)];
}

/** The keys of the requests a route catches, one per host: two services cannot own the same key (one would never be reached). */
export function routeKeys(route: ServiceRoute): string[] {
  const path = route.match === "exact" ? `=${route.path}` : barePrefix(route.path);
  return (route.hosts.length === 0 ? ["*"] : route.hosts).map((h) => `${h}${path}`);
}

/** An old single route's key: host (or "*") and its bare prefix. */
export function routeKey(route: LegacyRoute): string {
  return routeKeys(routeFromLegacy(route))[0];
}

/** A service's routes as the matcher in lib/core/route-match sees them. */
export function routesOf(service: Routed): Route[] {
  return routesOfServices([service]);
}

/** Services in the order of their first-tried route (compareRoutes); a new array. */
export function orderByRoute<T extends Routed>(services: readonly T[]): T[] {
  const first = (s: T) => [...routesOf(s)].sort(compareRoutes)[0];
  return [...services].sort((a, b) => compareRoutes(first(a), first(b)));
}

/**
 * Another service whose routes take every request of one of `service`'s routes
 * first (so that route is never reached), else null.
 */
export function shadowingService<T extends Routed>(services: readonly T[], service: T): T | null {
  const all = services.flatMap((s) => routesOf(s).map((r) => ({ ...r, owner: s })));
  for (const { route, by } of shadowedRoutes(all)) {
    if (route.owner !== service) continue;
    const other = by.find((r) => r.owner !== service);
    if (other) return other.owner;
  }
  return null;
}

export function describeRoute(route: LegacyRoute | ServiceRoute): string {
  return describeRouteOf("hosts" in route ? route : routeFromLegacy(route));
}

/** The name of another service that has a route with the same host and path as one of these, or null. */
export function routeConflict(rules: Pick<Rules, "routes"> | LegacyRoute, others: { name: string; rules: Pick<Rules, "routes"> }[]): string | null {
  const keys = new Set(routesIn(rules).flatMap(routeKeys));
  return others.find((o) => o.rules.routes.some((r) => routeKeys(r).some((k) => keys.has(k))))?.name ?? null;
}

/** The first route of `rules` that has a key another service owns, described, or null. */
export function conflictingRoute(rules: Pick<Rules, "routes">, others: { name: string; rules: Pick<Rules, "routes"> }[]): { route: string; service: string } | null {
  for (const r of rules.routes) {
    const keys = new Set(routeKeys(r));
    const other = others.find((o) => o.rules.routes.some((x) => routeKeys(x).some((k) => keys.has(k))));
    if (other) return { route: describeRouteOf(r), service: other.name };
  }
  return null;
}

/** `rules` with its first route on the service's own host name (<name>.local): the fallback when "/" on any host is taken. */
export function onOwnHost(rules: Rules, name: string): Rules {
  const own = { ...rules.routes[0], hosts: [`${name}.local`] };
  return { ...rules, routes: [own, ...rules.routes.slice(1)], route: { ...rules.route, host: own.hosts[0] } };
}
