import type { Rules } from "@/lib/core/rules";

/** Two services cannot own the same route (host + path prefix): one would never be reached. */
export function routeKey(route: Rules["route"]): string {
  const prefix = route.pathPrefix === "/" ? "/" : route.pathPrefix.replace(/\/$/, "");
  return `${route.host ?? "*"}${prefix}`;
}

export function describeRoute(route: Rules["route"]): string {
  return `${route.host ?? "any host"} ${route.pathPrefix}`;
}

/** The name of another service whose route equals `route`, or null. */
export function routeConflict(route: Rules["route"], others: { name: string; rules: Rules }[]): string | null {
  const key = routeKey(route);
  return others.find((o) => routeKey(o.rules.route) === key)?.name ?? null;
}
