/**
 * Traefik v3 export: file-provider dynamic configuration (YAML) and Docker
 * labels from the balancer model. Pure; Switchyard never runs Traefik.
 *
 * Names: router, service and loadBalancer are named after the service;
 * middlewares `<service>-strip` (stripPrefix) and `<service>-retry` (retry).
 * Shapes follow the Traefik v3 file-provider JSON schema (SchemaStore), which
 * the tests validate every export against.
 */
import { stringify } from "yaml";
import { barePrefix } from "@/lib/core/balancing";
import { exportRuleText, routePriority } from "@/lib/core/route-match";
import { AppError } from "@/lib/core/errors";
import { COOKIE_NAME, DNS_LABEL, HOSTNAME, HOST_PATTERN, URL_PATH, type Rules, type ServiceRoute } from "@/lib/core/rules";
import type { BalancerConfig, BalancerListener, BalancerServer, BalancerService } from "@/lib/engines/types";
import { checkedListeners, servedOn } from "@/lib/engines/listeners";

export type TraefikServer = { url: string; weight: number };

export type TraefikLoadBalancer = {
  servers: TraefikServer[];
  passHostHeader: true;
  sticky?: { cookie: { name: string; httpOnly: boolean; secure: boolean; sameSite: string; maxAge?: number } };
  healthCheck: { path: string; interval: string; timeout: string; status: number };
};

export type TraefikRouter = { rule: string; priority: number; service: string; middlewares?: string[]; entryPoints?: string[]; tls?: Record<string, never> };

export type TraefikMiddleware =
  | { stripPrefix: { prefixes: string[] } }
  | { retry: { attempts: number } }
  | { redirectScheme: { scheme: "https"; port: string; permanent: boolean } };

export type TraefikDynamicConfig = {
  http: {
    routers: Record<string, TraefikRouter>;
    services: Record<string, { loadBalancer: TraefikLoadBalancer }>;
    middlewares?: Record<string, TraefikMiddleware>;
  };
  tls?: { certificates: { certFile: string; keyFile: string }[] };
};

function fail(message: string): never {
  throw new AppError("bad_request", `traefik render: ${message}`);
}

function validate(service: BalancerService): void {
  const r = service.rules;
  if (!DNS_LABEL.test(service.name)) fail(`service name "${service.name}" is not a DNS label`);
  for (const route of r.routes) {
    for (const h of route.hosts) if (!HOST_PATTERN.test(h)) fail(`service ${service.name}: route host "${h}" is not a host name or *.wildcard`);
    if (!URL_PATH.test(route.path)) fail(`service ${service.name}: route path "${route.path}" is not a URL path`);
    if (route.match !== "prefix" && route.match !== "exact") fail(`service ${service.name}: route match "${String(route.match)}" is not prefix or exact`);
  }
  if (!URL_PATH.test(r.healthCheck.path)) fail(`service ${service.name}: health path "${r.healthCheck.path}" is not a URL path`);
  if (!COOKIE_NAME.test(r.sticky.cookieName)) fail(`service ${service.name}: cookie name "${r.sticky.cookieName}" is not allowed`);
  for (const s of service.servers) {
    if (!HOSTNAME.test(s.host)) fail(`server ${s.name}: "${s.host}" is not an IPv4 address or host name`);
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) fail(`server ${s.name}: port ${s.port} is not 1..65535`);
    if (!Number.isInteger(s.weight) || s.weight < 0 || s.weight > 256) fail(`server ${s.name}: weight ${s.weight} is not 0..256`);
  }
}

/** Go duration for a number of ms: 500 -> "500ms", 2000 -> "2s". */
export function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The rule of a service's route (the first by default): lib/core's exportRuleText,
 * Host(`a`) || HostRegexp(`...`) for its hosts and, since Traefik's PathPrefix is
 * a plain string prefix ("/api" matches "/apix") while routes match whole
 * segments, Path(`/api`) || PathPrefix(`/api/`) for a prefix, Path(`/x`) for an
 * exact path.
 */
export function routerRule(rules: Pick<Rules, "routes">, index = 0): string {
  return exportRuleText(rules.routes[index]);
}

/**
 * Every router gets an explicit priority: lib/core's routePriority, the number
 * the one route order sorts by. Traefik's own default is the rule's length, and
 * so is ours when a route sets none, but of the rule as the user would write it
 * (PathPrefix(`/api`)), not of the longer whole-segment rule exported; an
 * explicit priority is passed through. It
 * depends on the route alone, so a container's labels stay right when other
 * services come and go.
 */
export function routerPriority(rules: Pick<Rules, "routes">, index = 0): number {
  return routePriority(rules.routes[index]);
}

/**
 * The router of a service's route: the service's name for the first, `<service>_<n>`
 * for the n-th after it ('_' never appears in a service name, so names cannot clash).
 */
export function routerName(service: string, index: number): string {
  return index === 0 ? service : `${service}_${index}`;
}

function stripName(service: string, index: number): string {
  return `${routerName(service, index)}-strip`;
}

/** The middlewares of one route: its StripPrefix (when it strips a prefix other than "/"), then the service's retry. */
function routeMiddlewares(service: BalancerService, route: ServiceRoute, index: number): string[] {
  const p = route.match === "exact" ? route.path : barePrefix(route.path);
  const out = route.stripPrefix && p !== "/" ? [stripName(service.name, index)] : [];
  if (service.rules.retries.count > 0) out.push(`${service.name}-retry`);
  return out;
}

/** Servers that take requests: drained, maint and weight-0 replicas are left out (Traefik has no drain). */
export function activeServers(service: BalancerService): BalancerServer[] {
  return service.servers.filter((s) => s.adminState === "ready" && s.weight > 0);
}

/**
 * Traefik wants interval > timeout, else it stretches the interval to
 * timeout + 1 s. The model allows a timeout up to 4 intervals (default 1 s
 * timeout every 500 ms), so the export keeps the interval and shortens the
 * timeout to 90% of it.
 */
export function healthTimeoutMs(rules: Rules): number {
  const { intervalMs, timeoutMs } = rules.healthCheck;
  return timeoutMs < intervalMs ? timeoutMs : Math.floor(intervalMs * 0.9);
}

function loadBalancer(service: BalancerService, servers: BalancerServer[]): TraefikLoadBalancer {
  const r = service.rules;
  const lb: TraefikLoadBalancer = {
    servers: servers.map((s) => ({ url: `http://${s.host}:${s.port}`, weight: s.weight })),
    passHostHeader: true,
    healthCheck: { path: r.healthCheck.path, interval: goDuration(r.healthCheck.intervalMs), timeout: goDuration(healthTimeoutMs(r)), status: r.healthCheck.expectStatus },
  };
  if (r.sticky.mode === "cookie") {
    lb.sticky = { cookie: { name: r.sticky.cookieName, httpOnly: true, secure: false, sameSite: "lax", ...(r.sticky.maxAgeS > 0 ? { maxAge: r.sticky.maxAgeS } : {}) } };
  }
  return lb;
}

function middlewaresOf(service: BalancerService): Record<string, TraefikMiddleware> {
  const r = service.rules;
  const out: Record<string, TraefikMiddleware> = {};
  r.routes.forEach((route, i) => {
    const p = route.match === "exact" ? route.path : barePrefix(route.path);
    if (route.stripPrefix && p !== "/") out[stripName(service.name, i)] = { stripPrefix: { prefixes: [p] } };
  });
  // Traefik's attempts count every try, the first included
  if (r.retries.count > 0) out[`${service.name}-retry`] = { retry: { attempts: r.retries.count + 1 } };
  return out;
}

/** The dynamic configuration as an object (what the YAML serializes). */
export function traefikDynamicConfig(config: BalancerConfig): TraefikDynamicConfig {
  const listeners = entryListeners(config);
  const names = new Set<string>();
  const out: TraefikDynamicConfig = { http: { routers: {}, services: {} } };
  const middlewares: Record<string, TraefikMiddleware> = {};
  for (const service of config.services) {
    validate(service);
    if (names.has(service.name)) fail(`service name "${service.name}" appears twice`);
    names.add(service.name);
    const servers = activeServers(service);
    // The schema wants at least one server; a service with none has no router either (Traefik answers 404).
    if (servers.length === 0) continue;
    const mws = middlewaresOf(service);
    Object.assign(middlewares, mws);
    service.rules.routes.forEach((route, i) => {
      const used = routeMiddlewares(service, route, i);
      const router: TraefikRouter = {
        rule: routerRule(service.rules, i),
        priority: routerPriority(service.rules, i),
        service: service.name,
        ...(used.length > 0 ? { middlewares: used } : {}),
      };
      if (!listeners) out.http.routers[routerName(service.name, i)] = router;
      else Object.assign(out.http.routers, routersOnListeners(routerName(service.name, i), router, route, listeners));
    });
    out.http.services[service.name] = { loadBalancer: loadBalancer(service, servers) };
  }
  if (listeners) addRedirectsAndCertificates(out, middlewares, listeners);
  if (Object.keys(middlewares).length > 0) out.http.middlewares = middlewares;
  return out;
}

// ------------------------------------------------------------------ listeners (issue 13)

/** Listeners as entry points, or null for a config with only the default http listener (rendered as before). */
function entryListeners(config: BalancerConfig): BalancerListener[] | null {
  const listeners = checkedListeners(config);
  return listeners.length === 1 && listeners[0].protocol === "http" && listeners[0].redirectToHttpsPort === undefined ? null : listeners;
}

/** A route's router on its http entry points, and `<name>-tls` (tls: {}) on its https ones; none on a redirecting one. */
function routersOnListeners(name: string, router: TraefikRouter, route: ServiceRoute, listeners: readonly BalancerListener[]): Record<string, TraefikRouter> {
  const on = listeners.filter((l) => servedOn(route, l.name) && l.redirectToHttpsPort === undefined);
  const http = on.filter((l) => l.protocol === "http").map((l) => l.name);
  const https = on.filter((l) => l.protocol === "https").map((l) => l.name);
  // each router its own middlewares list (a shared array would be written as a YAML alias)
  const copy = (): TraefikRouter => ({ ...router, ...(router.middlewares ? { middlewares: [...router.middlewares] } : {}) });
  return {
    ...(http.length > 0 ? { [name]: { ...copy(), entryPoints: http } } : {}),
    ...(https.length > 0 ? { [`${name}-tls`]: { ...copy(), entryPoints: https, tls: {} } } : {}),
  };
}

/** A redirecting listener: one router taking every request first, to a redirectScheme; the certificates of every https listener. */
function addRedirectsAndCertificates(out: TraefikDynamicConfig, middlewares: Record<string, TraefikMiddleware>, listeners: readonly BalancerListener[]): void {
  for (const l of listeners) {
    if (l.redirectToHttpsPort === undefined) continue;
    middlewares[`${l.name}-to-https`] = { redirectScheme: { scheme: "https", port: String(l.redirectToHttpsPort), permanent: true } };
    out.http.routers[`${l.name}-to-https`] = { rule: "PathPrefix(`/`)", priority: MAX_PRIORITY, service: "noop@internal", middlewares: [`${l.name}-to-https`], entryPoints: [l.name] };
  }
  const files = new Map<string, { certFile: string; keyFile: string }>();
  for (const c of listeners.flatMap((l) => l.certificates ?? [])) files.set(c.id, { certFile: c.certFile, keyFile: c.keyFile });
  if (files.size > 0) out.tls = { certificates: [...files.values()] };
}

/** Above any route's priority (a rule's length or an explicit one up to 100 000). */
const MAX_PRIORITY = 1_000_000;

/** File-provider dynamic configuration (YAML) for Traefik v3. */
export function renderTraefik(config: BalancerConfig): string {
  const listeners = entryListeners(config);
  const header = [
    "# Traefik v3 dynamic configuration (file provider), exported by Switchyard.",
    listeners
      ? `# Entry points (static configuration), named as Switchyard's listeners: ${listeners.map((l) => `${l.name} ${l.host}:${l.port} (${l.protocol}${l.redirectToHttpsPort ? `, redirects to https :${l.redirectToHttpsPort}` : ""})`).join("; ")}.`
      : `# Entry point: the one listening where Switchyard's balancer listened (${config.listen.host}:${config.listen.port}).`,
    "# Drained, maint and weight-0 replicas are left out: Traefik has no drain.",
  ];
  const skipped = config.services.filter((s) => activeServers(s).length === 0).map((s) => s.name);
  if (skipped.length > 0) header.push(`# Not exported (no replica in rotation): ${skipped.join(", ")}`);
  return `${header.join("\n")}\n${stringify(traefikDynamicConfig(config), { lineWidth: 0 })}`;
}

/**
 * Docker provider labels for the containers of one service. `port` is the
 * container's data port (default: the first server's port); every replica
 * carries the same labels and Traefik merges them into one service.
 */
export function renderTraefikDockerLabels(service: BalancerService, opts: { port?: number } = {}): Record<string, string> {
  validate(service);
  const r = service.rules;
  const n = service.name;
  const labels: Record<string, string> = { "traefik.enable": "true" };
  r.routes.forEach((route, i) => {
    const router = `traefik.http.routers.${routerName(n, i)}`;
    labels[`${router}.rule`] = routerRule(r, i);
    labels[`${router}.priority`] = String(routerPriority(r, i));
    labels[`${router}.service`] = n;
    const used = routeMiddlewares(service, route, i);
    if (used.length > 0) labels[`${router}.middlewares`] = used.join(",");
  });
  const mws = middlewaresOf(service);
  for (const [name, mw] of Object.entries(mws)) {
    if ("stripPrefix" in mw) labels[`traefik.http.middlewares.${name}.stripprefix.prefixes`] = mw.stripPrefix.prefixes.join(",");
    else if ("retry" in mw) labels[`traefik.http.middlewares.${name}.retry.attempts`] = String(mw.retry.attempts);
  }
  const port = opts.port ?? service.servers[0]?.port;
  const svc = `traefik.http.services.${n}.loadbalancer`;
  if (port !== undefined) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`port ${port} is not 1..65535`);
    labels[`${svc}.server.port`] = String(port);
  }
  labels[`${svc}.passhostheader`] = "true";
  labels[`${svc}.healthcheck.path`] = r.healthCheck.path;
  labels[`${svc}.healthcheck.interval`] = goDuration(r.healthCheck.intervalMs);
  labels[`${svc}.healthcheck.timeout`] = goDuration(healthTimeoutMs(r));
  labels[`${svc}.healthcheck.status`] = String(r.healthCheck.expectStatus);
  if (r.sticky.mode === "cookie") {
    labels[`${svc}.sticky.cookie`] = "true";
    labels[`${svc}.sticky.cookie.name`] = r.sticky.cookieName;
    labels[`${svc}.sticky.cookie.httponly`] = "true";
    labels[`${svc}.sticky.cookie.secure`] = "false";
    labels[`${svc}.sticky.cookie.samesite`] = "lax";
    if (r.sticky.maxAgeS > 0) labels[`${svc}.sticky.cookie.maxage`] = String(r.sticky.maxAgeS);
  }
  return labels;
}
