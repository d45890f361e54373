import { createHmac } from "node:crypto";
import { barePrefix } from "@/lib/core/balancing";
import { AppError } from "@/lib/core/errors";
import { describeRouteOf, orderRoutes, routesOfServices, type Route } from "@/lib/core/route-match";
import { COOKIE_NAME, DNS_LABEL, HOSTNAME, HOST_PATTERN, URL_PATH, type Algorithm, type RetryCondition, type Rules, type ServiceRoute } from "@/lib/core/rules";
import { SECRET_PLACEHOLDER, type BalancerConfig, type BalancerListener, type BalancerServer, type BalancerService } from "@/lib/engines/types";
import { checkedListeners, servedOn } from "@/lib/engines/listeners";
import { HAPROXY_LOG_FORMAT, MAX_LOG_LINE, SEQUENCE_TABLE } from "@/lib/engines/haproxy/log-format";

/**
 * Pure renderer: BalancerConfig -> haproxy.cfg text for HAProxy 2.6 run in
 * master-worker mode (`haproxy -W -S <master socket> -f <cfg> -p <pid file>`).
 *
 * Everything reaching the file was validated by the zod rules model already; the
 * renderer still asserts each name, host, path and number against a strict pattern
 * and throws instead of pasting anything unexpected.
 *
 * Rules -> HAProxy, where the mapping is not one to one:
 * - algorithms: source_hash/uri_hash use `hash-type consistent` (map-based hashing and
 *   static-rr refuse runtime `add server`), random_two is `random(2)`.
 * - passive.maxFails N -> `observe layer7 error-limit N on-error mark-down` on each
 *   server: N consecutive errors mark it down, and the active check brings it back
 *   (after `rise` passes), so passive.failTimeoutMs has no HAProxy counterpart.
 * - sticky cookie -> `cookie NAME insert indirect nocache dynamic` with a per-service
 *   `dynamic-cookie-key`: the value is a keyed hash of the server address (plain
 *   cookie values are refused for dynamic servers); maxAgeS -> `maxlife`.
 * - sticky source -> `stick-table type ip` + `stick on src`, whatever the algorithm
 *   (`balance source` would replace the chosen algorithm); works with dynamic servers.
 *   The table lives in the worker: a reload starts it afresh.
 * - drain -> weight 0 in the file (2.6 has no drain keyword); the adapter sets the real
 *   weight plus `state drain` at run time. maint -> `disabled`.
 * - drainTimeoutMs is used by the adapter when it removes a server, not in the file.
 * - timeouts.clientMs is a frontend setting: the largest of all services (at least 30 s).
 */

export type HaproxyRenderOptions = {
  /** admin runtime socket (absolute path); the engine adapter talks to it */
  runtimeSocket: string;
  /** global server-state-file (absolute path), written before every reload */
  stateFile: string;
  /** global maxconn; must stay under the fd limit (about 2 fds a connection). Default 4096. */
  maxconn?: number;
  /** worker threads. Default 2. */
  nbthread?: number;
  /** old workers left after a reload are stopped after this long. Default 30 s. */
  hardStopAfterMs?: number;
  /** the panel's secret (lib/cookie-secret.ts), mixed with the service id into each backend's dynamic-cookie-key */
  cookieSecret: string;
  /**
   * Where HAProxy sends its per-request log (the panel's UDP loopback receiver,
   * log-receiver.ts): one datagram per request with the server and its timings, from
   * which the panel computes p50/p95/p99 as it does for nginx. Absent: no request log.
   */
  requestLog?: { host: string; port: number };
  /** the ids the workers drop to after the master bound the listeners (global uid/gid; lib/engines/engine-user.ts). Absent: no switch. */
  runAs?: { uid: number; gid: number };
};

export const FRONTEND_NAME = "fe_main";
/** Backend answering 503 when no route matches. Cannot clash: service backends are all `be_<dns label>`. */
export const NO_ROUTE_BACKEND = "noroute";
export const BACKEND_PREFIX = "be_";

export const backendName = (serviceName: string): string => `${BACKEND_PREFIX}${assertPattern("service name", serviceName, DNS_LABEL)}`;

/** The service name of a `be_<name>` backend, or null for any other proxy. */
export function serviceNameOfBackend(proxy: string): string | null {
  if (!proxy.startsWith(BACKEND_PREFIX)) return null;
  const name = proxy.slice(BACKEND_PREFIX.length);
  return DNS_LABEL.test(name) ? name : null;
}

// ------------------------------------------------------------------ assertions

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/+-]{1,1000}$/;
const SECRET = /^[\x21-\x7e]{1,200}$/;
/** what dynamicCookieKey makes: 32 hex digits */
const COOKIE_KEY = /^[0-9a-f]{32}$/;

function refuse(what: string, value: unknown): never {
  throw new AppError("bad_request", `refusing to render haproxy config: invalid ${what} ${JSON.stringify(value)}`);
}

function assertPattern(what: string, value: string, pattern: RegExp): string {
  if (typeof value !== "string" || !pattern.test(value)) refuse(what, value);
  return value;
}

function assertInt(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) refuse(what, value);
  return value;
}

function assertHost(what: string, value: string): string {
  if (typeof value !== "string" || !(IPV4.test(value) || HOSTNAME.test(value))) refuse(what, value);
  return value;
}

function assertAbsolutePath(what: string, value: string): string {
  if (typeof value !== "string" || !ABSOLUTE_PATH.test(value) || value.includes("/../") || value.endsWith("/..")) refuse(what, value);
  return value;
}

// ------------------------------------------------------------------ mappings

const balanceLines: Record<Algorithm, string[]> = {
  round_robin: ["balance roundrobin"],
  least_conn: ["balance leastconn"],
  random_two: ["balance random(2)"],
  // Consistent hashing: map-based hashing refuses dynamic servers (runtime `add server`).
  source_hash: ["balance source", "hash-type consistent"],
  uri_hash: ["balance uri", "hash-type consistent"],
};

const retryOnKeyword: Record<RetryCondition, string> = {
  conn_failure: "conn-failure",
  empty_response: "empty-response",
  response_timeout: "response-timeout",
  status_502: "502",
  status_503: "503",
  status_504: "504",
};

export function retryOnValue(conditions: readonly RetryCondition[]): string {
  if (conditions.length === 0) return "none";
  return [...new Set(conditions)].map((c) => retryOnKeyword[c] ?? refuse("retry condition", c)).join(" ");
}

/**
 * dynamic-cookie-key: a keyed hash of the service id under the panel's secret, so cookie
 * values reveal no address, differ per service and per panel, and cannot be forged by
 * anyone who has not read the config file HAProxy reads.
 */
export function dynamicCookieKey(serviceId: string, secret: string): string {
  assertPattern("cookie secret", secret, SECRET);
  return createHmac("sha256", secret).update(`switchyard-cookie:${serviceId}`).digest("hex").slice(0, 32);
}

/** HAProxy config text as a browser may see it: each dynamic-cookie-key value replaced by the placeholder. */
export function redactHaproxyConfig(text: string): string {
  return text.replace(/(dynamic-cookie-key[ \t]+)[^\s'"]+/g, `$1${SECRET_PLACEHOLDER}`);
}

/**
 * The per-server keywords (after `<name> <addr>:<port>`): shared by the config file
 * and the runtime `add server` command, because dynamic servers do not inherit
 * `default-server`. Drain is weight 0 in the file (HAProxy 2.6 has no drain keyword);
 * the adapter restores the real weight plus the DRAIN state at run time.
 */
export function serverKeywords(rules: Rules, server: BalancerServer, opts: { forConfigFile: boolean }): string[] {
  const hc = rules.healthCheck;
  const weight = assertInt("weight", server.weight, 0, 256);
  const words = [
    `weight ${opts.forConfigFile && server.adminState === "drain" ? 0 : weight}`,
    "check",
    `inter ${assertInt("health check interval", hc.intervalMs, 100, 60_000)}ms`,
    `fall ${assertInt("health check fall", hc.fall, 1, 20)}`,
    `rise ${assertInt("health check rise", hc.rise, 1, 20)}`,
  ];
  words.push(...tuningKeywords(rules.slowStartMs, rules.passive.maxFails));
  if (opts.forConfigFile && server.adminState === "maint") words.push("disabled");
  return words;
}

/** Slow start and passive checks as server keywords (also the Swarm balancer's server-template, lib/runtime/swarm-balancer.ts). */
export function tuningKeywords(slowStartMs: number, passiveMaxFails: number): string[] {
  const words: string[] = [];
  if (slowStartMs > 0) words.push(`slowstart ${assertInt("slow start", slowStartMs, 1, 600_000)}ms`);
  if (passiveMaxFails > 0) words.push(`observe layer7 error-limit ${assertInt("passive maxFails", passiveMaxFails, 1, 100)} on-error mark-down`);
  return words;
}

/**
 * Cookie stickiness: `cookie NAME insert indirect nocache dynamic` (the value a keyed hash of the
 * server's address under `key`, dynamicCookieKey), maxAgeS -> maxlife. Also the Swarm balancer's.
 */
export function stickyCookieLines(cookieName: string, maxAgeS: number, key: string): string[] {
  const name = assertPattern("cookie name", cookieName, COOKIE_NAME);
  const maxAge = assertInt("cookie max age", maxAgeS, 0, 31_536_000);
  return [`cookie ${name} insert indirect nocache dynamic${maxAge > 0 ? ` maxlife ${maxAge}s` : ""}`, `dynamic-cookie-key ${assertPattern("dynamic cookie key", key, COOKIE_KEY)}`];
}

export function serverAddress(server: BalancerServer): string {
  return `${assertHost("server host", server.host)}:${assertInt("server port", server.port, 1, 65535)}`;
}

// ------------------------------------------------------------------ routing

/** Regex text for a validated URL path: the only regex metacharacter URL_PATH allows is '.'. */
const regexLiteral = (path: string): string => path.replace(/\./g, "[.]");

type OrderedRoute = Route & { entry: ServiceRoute };

/**
 * One route's lines in the frontend, `id` naming it (r1, r2, ... in the route order).
 * Hosts: exact names with -m str, "*.suffix" wildcards with -m end ".suffix" (any
 * depth, never the bare suffix); several acl lines of one name are ORed. Path: an
 * exact path with `path`, a prefix with `path` + `path_beg <prefix>/` (whole segments,
 * as lib/core matches). The first route that matches sets txn.route; its strip and
 * use_backend then go by that variable alone.
 */
function routeLines(route: OrderedRoute, id: string): { acls: string[]; pick: string; strip: string[] } {
  const acls: string[] = [`# ${id}: ${route.service} ${describeRouteOf(route)}${route.match === "exact" ? " (exact)" : ""}`];
  const terms: string[] = [];
  const exact = route.hosts.filter((h) => !h.startsWith("*."));
  const wild = route.hosts.filter((h) => h.startsWith("*."));
  if (exact.length > 0) acls.push(`acl ${id}_host var(txn.host) -m str ${exact.map((h) => assertHost("route host", h)).join(" ")}`);
  for (const w of wild) acls.push(`acl ${id}_host var(txn.host) -m end ${assertPattern("route host", w, HOST_PATTERN).slice(1)}`);
  if (route.hosts.length > 0) terms.push(`${id}_host`);
  const path = assertPattern("route path", route.path, URL_PATH);
  if (route.match === "exact") {
    acls.push(`acl ${id}_path path ${path}`);
    terms.push(`${id}_path`);
  } else if (barePrefix(path) !== "/") {
    // "/api" and "/api/" both match /api and /api/..., never /apiary
    acls.push(`acl ${id}_path path ${barePrefix(path)}`, `acl ${id}_path path_beg ${barePrefix(path)}/`);
    terms.push(`${id}_path`);
  }
  const pick = `http-request set-var(txn.route) str(${id}) if !{ var(txn.route) -m found }${terms.length > 0 ? ` ${terms.join(" ")}` : ""}`;
  const bare = route.match === "exact" ? path : barePrefix(path);
  const strip = route.entry.stripPrefix && bare !== "/" ? [`http-request replace-path '^${regexLiteral(bare.replace(/\/$/, ""))}/?(.*)$' '/\\1' if { var(txn.route) -m str ${id} }`] : [];
  return { acls, pick, strip };
}

// ------------------------------------------------------------------ sections

function globalSection(opts: HaproxyRenderOptions): string[] {
  return [
    "global",
    "    # master-worker: started as haproxy -W -S <master socket> -f <this file> -p <pid file>",
    `    stats socket ${assertAbsolutePath("runtime socket", opts.runtimeSocket)} mode 600 level admin expose-fd listeners`,
    "    stats timeout 30s",
    `    server-state-file ${assertAbsolutePath("state file", opts.stateFile)}`,
    `    nbthread ${assertInt("nbthread", opts.nbthread ?? 2, 1, 64)}`,
    `    maxconn ${assertInt("maxconn", opts.maxconn ?? 4096, 10, 1_000_000)}`,
    `    hard-stop-after ${assertInt("hard-stop-after", opts.hardStopAfterMs ?? 30_000, 1000, 3_600_000)}ms`,
    "    # a second haproxy on the same address must fail, not share the port; reloads pass the",
    "    # listening sockets to the new worker (expose-fd listeners) and do not need SO_REUSEPORT",
    "    noreuseport",
    ...(opts.runAs
      ? [
          "    # the workers (the data path) are not root: they drop to these ids once the master bound the listeners",
          `    uid ${assertInt("uid", opts.runAs.uid, 1, 2 ** 31 - 1)}`,
          `    gid ${assertInt("gid", opts.runAs.gid, 1, 2 ** 31 - 1)}`,
        ]
      : []),
    ...(opts.requestLog ? [`    log ${requestLogTarget(opts.requestLog)} len ${MAX_LOG_LINE} format raw local0 info`] : []),
  ];
}

const LOOPBACK = /^127\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The request log goes to the panel on this machine only: a loopback address and a port. */
function requestLogTarget(target: { host: string; port: number }): string {
  return `${assertPattern("request log host (loopback only)", target.host, LOOPBACK)}:${assertInt("request log port", target.port, 1, 65535)}`;
}

/** The frontend lines that number each request and log it to the panel (see log-format.ts). */
function requestLogLines(): string[] {
  return [
    "    # one datagram per request to the panel: server, status and timings (its p50/p95/p99), numbered",
    "    # per worker so the panel can count datagrams that never arrived",
    "    log global",
    "    option dontlognull",
    `    http-request track-sc2 int(1) table ${SEQUENCE_TABLE}`,
    "    http-request set-var(txn.sy_seq) sc_inc_gpc0(2)",
    `    log-format "${HAPROXY_LOG_FORMAT}"`,
  ];
}

function sequenceTableSection(): string[] {
  return [`backend ${SEQUENCE_TABLE}`, "    # the request counter behind the numbers in the request log", "    stick-table type integer size 1 store gpc0"];
}

function defaultsSection(): string[] {
  return [
    "defaults",
    "    mode http",
    "    # close idle keep-alive client connections after a response once a reload stops this worker",
    "    option idle-close-on-response",
    "    load-server-state-from-file global",
    "    timeout connect 2000ms",
    "    timeout client 30000ms",
    "    timeout server 30000ms",
    "    timeout http-request 10000ms",
    "    timeout http-keep-alive 10000ms",
    "    timeout queue 10000ms",
  ];
}

function frontendSection(config: BalancerConfig, services: BalancerService[], opts: HaproxyRenderOptions): string[] {
  const clientMs = Math.max(30_000, ...services.map((s) => s.rules.timeouts.clientMs));
  const listeners = checkedListeners(config);
  const lines = [
    `frontend ${FRONTEND_NAME}`,
    ...bindLines(listeners),
    `    timeout client ${assertInt("client timeout", clientMs, 100, 3_600_000)}ms`,
    ...(opts.requestLog ? requestLogLines() : []),
    "    option forwardfor",
    "    http-request set-header X-Forwarded-Proto http",
    ...(listeners.some((l) => l.protocol === "https") ? ["    http-request set-header X-Forwarded-Proto https if { ssl_fc }"] : []),
    "    http-request set-header X-Forwarded-Host %[req.hdr(host)] if { req.hdr(host) -m found }",
    "    http-request set-header X-Real-IP %[src]",
    "    # the Host header without its port and a trailing dot, lower case, for host routes (as lib/core normalizeHost)",
    "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower,regsub([.]$,)",
    ...redirectLines(listeners),
  ];
  // the routes in the one route order (lib/core): the first that matches is the route
  const picks: string[] = [];
  const strips: string[] = [];
  const uses: string[] = [];
  orderRoutes(routesOfServices(services)).forEach((route, i) => {
    const id = `r${i + 1}`;
    const { acls, pick, strip } = routeLines(route, id);
    const on = listenerAcl(route, id, listeners);
    if (on === null) return; // served on no listener of this config
    lines.push(...acls.map((a) => `    ${a}`), ...on.acls.map((a) => `    ${a}`));
    picks.push(`    ${pick}${on.term}`);
    strips.push(...strip.map((l) => `    ${l}`));
    uses.push(`    use_backend ${backendName(route.service)} if { var(txn.route) -m str ${id} }`);
  });
  lines.push(...picks, ...strips);
  lines.push(...uses, `    default_backend ${NO_ROUTE_BACKEND}`);
  return lines;
}

// ------------------------------------------------------------------ listeners (issue 13)

/** One bind per listener; https ones with every certificate (`crt`, chain + key), the first the default, the others picked by SNI. */
function bindLines(listeners: readonly BalancerListener[]): string[] {
  const several = listeners.length > 1;
  return listeners.map((l) => {
    const tls = l.protocol === "https" ? ` ssl ${(l.certificates ?? []).map((c) => `crt ${assertAbsolutePath("certificate", c.pemFile)}`).join(" ")}` : "";
    return `    bind ${assertHost("listen host", l.host)}:${assertInt("listen port", l.port, 1, 65535)}${several ? ` name ${l.name}` : ""}${tls}`;
  });
}

/** An http listener that redirects answers 308 to the https port, same host and URI, before any route. */
function redirectLines(listeners: readonly BalancerListener[]): string[] {
  return listeners
    .filter((l) => l.protocol === "http" && l.redirectToHttpsPort !== undefined)
    .map((l) => `    http-request redirect location https://%[var(txn.host)]:${assertInt("redirect port", l.redirectToHttpsPort!, 1, 65535)}%[capture.req.uri] code 308 if { dst_port ${l.port} }`);
}

/** With several listeners, a route is picked only on the ports of its listeners; null when none of them is in the config. */
function listenerAcl(route: Route, id: string, listeners: readonly BalancerListener[]): { acls: string[]; term: string } | null {
  if (listeners.length <= 1) return listeners.length === 1 && !servedOn(route, listeners[0].name) ? null : { acls: [], term: "" };
  const ports = listeners.filter((l) => servedOn(route, l.name)).map((l) => l.port);
  if (ports.length === 0) return null;
  return { acls: [`acl ${id}_on dst_port ${ports.join(" ")}`], term: ` ${id}_on` };
}

function noRouteSection(): string[] {
  return [
    `backend ${NO_ROUTE_BACKEND}`,
    '    http-request return status 503 content-type text/plain string "No service matches this request.\\n"',
  ];
}

function backendSection(service: BalancerService, opts: HaproxyRenderOptions): string[] {
  const r = service.rules;
  const hc = r.healthCheck;
  const lines = [`backend ${backendName(service.name)}`, ...balanceLines[r.algorithm].map((l) => `    ${l}`)];
  lines.push(
    `    timeout connect ${assertInt("connect timeout", r.timeouts.connectMs, 100, 60_000)}ms`,
    `    timeout server ${assertInt("server timeout", r.timeouts.serverMs, 100, 3_600_000)}ms`,
    `    timeout check ${assertInt("health check timeout", hc.timeoutMs, 50, 60_000)}ms`,
    `    option httpchk GET ${assertPattern("health check path", hc.path, URL_PATH)}`,
    `    http-check expect status ${assertInt("expected status", hc.expectStatus, 100, 599)}`,
    `    retries ${assertInt("retries", r.retries.count, 0, 10)}`,
    r.retries.redispatch ? "    option redispatch" : "    no option redispatch",
    `    retry-on ${retryOnValue(r.retries.on)}`,
  );
  if (r.sticky.mode === "cookie") {
    lines.push(...stickyCookieLines(r.sticky.cookieName, r.sticky.maxAgeS, dynamicCookieKey(service.id, opts.cookieSecret)).map((l) => `    ${l}`));
  } else if (r.sticky.mode === "source") {
    const expireS = r.sticky.maxAgeS > 0 ? assertInt("sticky max age", r.sticky.maxAgeS, 1, 31_536_000) : 1800;
    lines.push(`    stick-table type ip size 100k expire ${expireS}s`, "    stick on src");
  }
  const seen = new Set<string>();
  for (const server of service.servers) {
    const name = assertPattern("server name", server.name, SERVER_NAME);
    if (seen.has(name)) refuse(`duplicate server name in ${service.name}:`, name);
    seen.add(name);
    if (server.adminState === "drain") lines.push(`    # ${name} drains: weight ${server.weight} is restored at run time with state drain`);
    const byDns = server.resolveLater && !IPV4.test(server.host) ? ` ${NAMED_SERVER_KEYWORDS}` : "";
    lines.push(`    server ${name} ${serverAddress(server)} ${serverKeywords(r, server, { forConfigFile: true }).join(" ")}${byDns}`);
  }
  return lines;
}

/**
 * Servers given by a container's name on a Docker network (BalancerServer.resolveLater; other
 * names, e.g. an external endpoint's, must resolve or the check fails): HAProxy starts even when a
 * name does not resolve (a container gone while the compose stack was stopped) instead of
 * refusing the whole config: the address the server-state file kept, else libc's, else none
 * for now (the panel replaces a gone replica and adds its successor by address). No run-time
 * `resolvers`: HAProxy 2.6 cannot `del server` one that has them, and a resolver would undo
 * an address the panel set (a network fault's proxy). A gone name costs libc's timeouts at
 * start (docker-compose.yml shortens them with dns_opt).
 */
const NAMED_SERVER_KEYWORDS = "init-addr last,libc,none";

export function renderHaproxy(config: BalancerConfig, opts: HaproxyRenderOptions): string {
  const names = new Set<string>();
  for (const s of config.services) {
    if (names.has(s.name)) refuse("duplicate service name", s.name);
    names.add(s.name);
  }
  const byName = [...config.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sections = [
    ["# Rendered by Switchyard: the panel rewrites this file on every apply; edits here are lost."],
    globalSection(opts),
    defaultsSection(),
    frontendSection(config, config.services, opts),
    noRouteSection(),
    ...(opts.requestLog ? [sequenceTableSection()] : []),
    ...byName.map((s) => backendSection(s, opts)),
  ];
  return sections.map((lines) => lines.join("\n")).join("\n\n") + "\n";
}
