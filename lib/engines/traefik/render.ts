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
import { barePrefix, routeRank } from "@/lib/core/balancing";
import { AppError } from "@/lib/core/errors";
import { COOKIE_NAME, DNS_LABEL, HOSTNAME, URL_PATH, type Rules } from "@/lib/core/rules";
import type { BalancerConfig, BalancerServer, BalancerService } from "@/lib/engines/types";

export type TraefikServer = { url: string; weight: number };

export type TraefikLoadBalancer = {
  servers: TraefikServer[];
  passHostHeader: true;
  sticky?: { cookie: { name: string; httpOnly: boolean; secure: boolean; sameSite: string; maxAge?: number } };
  healthCheck: { path: string; interval: string; timeout: string; status: number };
};

export type TraefikRouter = { rule: string; priority: number; service: string; middlewares?: string[]; entryPoints?: string[] };

export type TraefikMiddleware = { stripPrefix: { prefixes: string[] } } | { retry: { attempts: number } };

export type TraefikDynamicConfig = {
  http: {
    routers: Record<string, TraefikRouter>;
    services: Record<string, { loadBalancer: TraefikLoadBalancer }>;
    middlewares?: Record<string, TraefikMiddleware>;
  };
};

function fail(message: string): never {
  throw new AppError("bad_request", `traefik render: ${message}`);
}

function validate(service: BalancerService): void {
  const r = service.rules;
  if (!DNS_LABEL.test(service.name)) fail(`service name "${service.name}" is not a DNS label`);
  if (r.route.host !== null && !HOSTNAME.test(r.route.host)) fail(`service ${service.name}: route host "${r.route.host}" is not a host name`);
  if (!URL_PATH.test(r.route.pathPrefix)) fail(`service ${service.name}: path prefix "${r.route.pathPrefix}" is not a URL path`);
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
 * The router rule. Traefik's PathPrefix is a plain string prefix ("/api"
 * matches "/apix"); the rules model matches whole segments, so "/api" becomes
 * Path(`/api`) || PathPrefix(`/api/`).
 */
export function routerRule(rules: Rules): string {
  const p = barePrefix(rules.route.pathPrefix);
  const path = p === "/" ? "PathPrefix(`/`)" : `(Path(\`${p}\`) || PathPrefix(\`${p}/\`))`;
  return rules.route.host === null ? path : `Host(\`${rules.route.host}\`) && ${path}`;
}

/**
 * Traefik tries routers by priority, highest first; left at 0 it would use the
 * rule's length, which puts a long host-less rule before a short one naming a
 * host. So every router gets an explicit priority: lib/core's routeRank, the
 * number the one route order sorts by (priority, then a named host, then the
 * longer prefix). It depends on the route alone, so a container's labels stay
 * right when other services come and go. Equal ranks never match the same
 * request (see compareRoutes).
 */
export function routerPriority(rules: Rules): number {
  return routeRank(rules.route);
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
  const p = barePrefix(r.route.pathPrefix);
  if (r.route.stripPrefix && p !== "/") out[`${service.name}-strip`] = { stripPrefix: { prefixes: [p] } };
  // Traefik's attempts count every try, the first included
  if (r.retries.count > 0) out[`${service.name}-retry`] = { retry: { attempts: r.retries.count + 1 } };
  return out;
}

/** The dynamic configuration as an object (what the YAML serializes). */
export function traefikDynamicConfig(config: BalancerConfig): TraefikDynamicConfig {
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
    out.http.routers[service.name] = {
      rule: routerRule(service.rules),
      priority: routerPriority(service.rules),
      service: service.name,
      ...(Object.keys(mws).length > 0 ? { middlewares: Object.keys(mws) } : {}),
    };
    out.http.services[service.name] = { loadBalancer: loadBalancer(service, servers) };
  }
  if (Object.keys(middlewares).length > 0) out.http.middlewares = middlewares;
  return out;
}

/** File-provider dynamic configuration (YAML) for Traefik v3. */
export function renderTraefik(config: BalancerConfig): string {
  const header = [
    "# Traefik v3 dynamic configuration (file provider), exported by Switchyard.",
    `# Entry point: the one listening where Switchyard's balancer listened (${config.listen.host}:${config.listen.port}).`,
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
  const labels: Record<string, string> = {
    "traefik.enable": "true",
    [`traefik.http.routers.${n}.rule`]: routerRule(r),
    [`traefik.http.routers.${n}.priority`]: String(routerPriority(r)),
    [`traefik.http.routers.${n}.service`]: n,
  };
  const mws = middlewaresOf(service);
  if (Object.keys(mws).length > 0) labels[`traefik.http.routers.${n}.middlewares`] = Object.keys(mws).join(",");
  for (const [name, mw] of Object.entries(mws)) {
    if ("stripPrefix" in mw) labels[`traefik.http.middlewares.${name}.stripprefix.prefixes`] = mw.stripPrefix.prefixes.join(",");
    else labels[`traefik.http.middlewares.${name}.retry.attempts`] = String(mw.retry.attempts);
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
