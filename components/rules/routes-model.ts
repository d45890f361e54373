import { DEFAULT_LISTENER, exampleRequest, routePriority, type Route } from "@/lib/core/route-match";
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

/** A listener as GET /api/listeners lists it (what the routes table needs of it). */
export type ListenerChoice = { name: string; port: number; protocol: "http" | "https" };

/** The file name the CA root downloads as (GET /api/certificates/ca). */
export const CA_FILE = "switchyard-local-ca.crt";

/** The listener a route's example goes through: the first it names, else the default one (the panel's `listen`). */
export function exampleListener(route: Pick<ServiceRoute, "listeners">, listeners: readonly ListenerChoice[] | null, listen: { host: string; port: number } | null): { host: string; port: number | null; protocol: "http" | "https" } {
  const named = route.listeners?.[0] ?? DEFAULT_LISTENER;
  const found = listeners?.find((l) => l.name === named);
  if (found) return { host: reachHostOf(listen), port: found.port, protocol: found.protocol };
  return { host: reachHostOf(listen), port: named === DEFAULT_LISTENER ? (listen?.port ?? null) : null, protocol: "http" };
}

/**
 * A request the route catches, as a curl command through its listener: "curl -H 'Host:
 * www.local' http://127.0.0.1:8080/api" on http; on https the name goes in the URL (so
 * SNI and the certificate check use it), --resolve sends it to this machine, and
 * --cacert trusts the panel's CA root (downloaded from the Balancer page).
 */
export function exampleCurl(route: ServiceRoute, listen: { host: string; port: number } | null, listeners: readonly ListenerChoice[] | null = null): string {
  const { host, path } = exampleRequest(route);
  const via = exampleListener(route, listeners, listen);
  const port = via.port ?? "<listener port>";
  if (via.protocol === "https") {
    return host ? `curl --cacert ${CA_FILE} --resolve ${host}:${port}:${bracket(via.host)} https://${host}:${port}${path}` : `curl --cacert ${CA_FILE} https://${bracket(via.host)}:${port}${path}`;
  }
  const url = `http://${bracket(via.host)}:${port}${path}`;
  return host ? `curl -H 'Host: ${host}' ${url}` : `curl ${url}`;
}

const bracket = (h: string) => (h.includes(":") ? `[${h}]` : h);

/**
 * Where a route answers for a browser: the URL with the route's example name (a
 * *.wildcard gets "www." in front, never a "*"), its listener's scheme and port; `via`
 * is the address to send it to when the name does not resolve to this machine (null
 * when the URL already names it), `https` whether the panel's CA root must be trusted.
 */
export function routeUrl(route: ServiceRoute, listen: { host: string; port: number } | null, listeners: readonly ListenerChoice[] | null = null): { url: string; via: string | null; https: boolean } {
  const { host, path } = exampleRequest(route);
  const listener = exampleListener(route, listeners, listen);
  const port = listener.port ?? "<listener port>";
  const scheme = listener.protocol;
  const address = `${bracket(listener.host)}:${port}`;
  if (!host) return { url: `${scheme}://${address}${path}`, via: null, https: scheme === "https" };
  return { url: `${scheme}://${host}:${port}${path}`, via: address, https: scheme === "https" };
}

/** Route with listener `name` turned on or off; with none left the route names none (the default listener). */
export function withListener(route: ServiceRoute, name: string, on: boolean): ServiceRoute {
  const current = route.listeners ?? [];
  const next = on ? (current.includes(name) ? current : [...current, name]) : current.filter((l) => l !== name);
  const { listeners: _old, ...rest } = route;
  return next.length > 0 ? { ...rest, listeners: next } : rest;
}

/** Is the route served on listener `name` (no listeners named: the default one)? */
export const servedOn = (route: Pick<ServiceRoute, "listeners">, name: string): boolean => (route.listeners && route.listeners.length > 0 ? route.listeners.includes(name) : name === DEFAULT_LISTENER);

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
