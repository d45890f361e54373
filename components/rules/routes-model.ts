import { exampleRequest, routePriority, type Route } from "@/lib/core/route-match";
import { shadowedRoutes } from "@/lib/core/route-shadow";
import type { ServiceRoute } from "@/lib/core/rules";

/**
 * Pure helpers of the routes table: the order a service's routes are tried in
 * (lib/core's routePriority, then their place in the list), moving one up or down
 * by setting explicit priorities, and an example request each catches.
 */

const asRoute = (r: ServiceRoute, index: number): Route => ({ ...r, service: "", index, priority: Number.isFinite(r.priority) ? r.priority : 0 });

/** Indexes of `routes` in the order they are tried (among themselves). */
export function triedOrder(routes: readonly ServiceRoute[]): number[] {
  return routes
    .map((r, i) => ({ i, p: routePriority(asRoute(r, i)) }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .map((x) => x.i);
}

/** A route's priority as the order uses it (its own, else its rule's length), and whether that is the default. */
export function effectivePriority(route: ServiceRoute): { value: number; auto: boolean } {
  const auto = !(route.priority > 0);
  return { value: routePriority(asRoute(route, 0)), auto };
}

/**
 * Routes with route `index` tried one place earlier (-1) or later (+1) among this
 * service's routes: explicit priorities just above (or below) its neighbour's.
 * Unchanged when it is already first (last).
 */
export function moveRoute(routes: readonly ServiceRoute[], index: number, step: -1 | 1): ServiceRoute[] {
  const order = triedOrder(routes);
  const at = order.indexOf(index);
  const other = order[at + step];
  if (other === undefined) return [...routes];
  const next = routes.map((r) => ({ ...r }));
  const otherP = effectivePriority(routes[other]).value;
  if (step === -1) next[index].priority = otherP + 1;
  else if (otherP > 1) next[index].priority = otherP - 1;
  else next[other].priority = effectivePriority(routes[index]).value + 1;
  return next;
}

/** The address a browser or curl on this machine reaches the listener at. */
export const reachHostOf = (listen: { host: string } | null | undefined): string => (!listen || listen.host === "0.0.0.0" || listen.host === "::" ? "127.0.0.1" : listen.host);

/** "curl -H 'Host: www.local' http://127.0.0.1:8080/api": a request the route catches, through the listener. */
export function exampleCurl(route: ServiceRoute, listen: { host: string; port: number } | null): string {
  const { host, path } = exampleRequest(route);
  const url = `http://${reachHostOf(listen)}:${listen?.port ?? "<listener port>"}${path}`;
  return host ? `curl -H 'Host: ${host}' ${url}` : `curl ${url}`;
}

/** The hosts field's text as the list of hosts (space or comma separated; empty: any host). */
export function hostsOf(text: string): string[] {
  return text.split(/[\s,]+/).filter((h) => h.length > 0);
}

export const newRoute = (): ServiceRoute => ({ hosts: [], path: "/", match: "prefix", stripPrefix: false, priority: 0 });

/** Route index -> the routes of this same service (1-based numbers) that catch all its requests first; other services are Preview's job. */
export function hiddenWithin(routes: readonly ServiceRoute[]): Map<number, number[]> {
  const valid = routes.every((r) => Number.isFinite(r.priority));
  if (!valid) return new Map();
  return new Map(shadowedRoutes(routes.map((r, i) => asRoute(r, i))).map((s) => [s.route.index ?? 0, s.by.map((b) => (b.index ?? 0) + 1)]));
}
