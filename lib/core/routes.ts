import { barePrefix, compareRoutes, matchRoute, type Route } from "@/lib/core/balancing";
import type { Rules } from "@/lib/core/rules";

/** Anything that owns a route: a service, a balancer service, a row of the UI. */
export type Routed = { name: string; rules: Pick<Rules, "route"> };

/** Two services cannot own the same route (host + path prefix): one would never be reached. */
export function routeKey(route: Rules["route"]): string {
  return `${route.host ?? "*"}${barePrefix(route.pathPrefix)}`;
}

/** A service's route as the matcher in lib/core/balancing sees it. */
export function routeOf(service: Routed): Route {
  const { host, pathPrefix, priority } = service.rules.route;
  return { service: service.name, host, pathPrefix, priority };
}

/** Services in the order their routes are tried (lib/core/balancing compareRoutes); a new array. */
export function orderByRoute<T extends Routed>(services: readonly T[]): T[] {
  return services
    .map((s) => ({ s, route: routeOf(s) }))
    .sort((a, b) => compareRoutes(a.route, b.route))
    .map(({ s }) => s);
}

/**
 * The service a request for `service`'s own host and prefix reaches when that is
 * another service (its route is tried first and matches too), else null. Then
 * `service` is never reached with that host: every path under its prefix goes
 * to the other one as well.
 */
export function shadowingService<T extends Routed>(services: readonly T[], service: T): T | null {
  const own = routeOf(service);
  const hit = matchRoute(services.map((s) => ({ ...routeOf(s), owner: s })), own.host, barePrefix(own.pathPrefix));
  return hit && hit.owner !== service ? hit.owner : null;
}

export function describeRoute(route: Rules["route"]): string {
  return `${route.host ?? "any host"} ${route.pathPrefix}`;
}

/** The name of another service whose route equals `route`, or null. */
export function routeConflict(route: Rules["route"], others: { name: string; rules: Rules }[]): string | null {
  const key = routeKey(route);
  return others.find((o) => routeKey(o.rules.route) === key)?.name ?? null;
}
