/**
 * Route listeners, pure: the listener names routes are served on must name
 * listeners that exist. Until listeners can be managed, the only one is the
 * default listener (BALANCER_PORT), which routes without `listeners` use; the
 * listeners use case passes the names it knows.
 */
import { routeListeners, type Route } from "./route-match";

export type UnknownListener = { service: string; index: number; listener: string };

/** The routes' listener names that are not among `known` (names of existing listeners), in route order. */
export function unknownRouteListeners(routes: readonly Pick<Route, "service" | "index" | "listeners">[], known: readonly string[]): UnknownListener[] {
  const names = new Set(known);
  const out: UnknownListener[] = [];
  for (const r of routes) {
    if (!r.listeners || r.listeners.length === 0) continue;
    for (const listener of routeListeners(r)) if (!names.has(listener)) out.push({ service: r.service, index: r.index ?? 0, listener });
  }
  return out;
}
