/**
 * nginx.conf from the balancer model. Pure: no I/O, no clock; the same config
 * and options always give the same text (golden files in tests/fixtures/nginx).
 *
 * Every string that reaches the file was checked by the rules patterns before;
 * the renderer checks them again (a bug upstream must not turn into config
 * injection) and throws AppError("bad_request") on anything unexpected.
 */
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import { hostMatches, matchRoute, routeTakesHost, routesOfServices, type Route } from "@/lib/core/route-match";
import { COOKIE_NAME, DNS_LABEL, HOSTNAME, HOST_PATTERN, URL_PATH, type RetryCondition, type ServiceRoute } from "@/lib/core/rules";
import type { BalancerCertificate, BalancerConfig, BalancerListener, BalancerServer, BalancerService } from "@/lib/engines/types";
import { checkedListeners, servedOn } from "@/lib/engines/listeners";

/** Files and folders nginx uses, all under one prefix folder inside the panel's data folder. */
export type NginxPaths = {
  /** the `-p` prefix */
  prefix: string;
  /** the live config file */
  config: string;
  pid: string;
  errorLog: string;
  /** one line per request, read (and rotated) by the panel: per-replica counts */
  accessLog: string;
  clientBodyTemp: string;
  proxyTemp: string;
  fastcgiTemp: string;
  uwsgiTemp: string;
  scgiTemp: string;
};

export function nginxPaths(dataDir: string): NginxPaths {
  const prefix = path.join(path.resolve(dataDir), "nginx");
  const temp = path.join(prefix, "temp");
  return {
    prefix,
    config: path.join(prefix, "nginx.conf"),
    pid: path.join(prefix, "nginx.pid"),
    errorLog: path.join(prefix, "logs", "error.log"),
    accessLog: path.join(prefix, "logs", "access.log"),
    clientBodyTemp: path.join(temp, "client_body"),
    proxyTemp: path.join(temp, "proxy"),
    fastcgiTemp: path.join(temp, "fastcgi"),
    uwsgiTemp: path.join(temp, "uwsgi"),
    scgiTemp: path.join(temp, "scgi"),
  };
}

export type NginxRenderOptions = {
  paths: NginxPaths;
  /** "host:port" of replicas the panel's prober found failing: rendered `down` */
  downServers?: ReadonlySet<string>;
  /** `user` directive for the workers (only meaningful when nginx starts as root); omitted when null */
  workerUser?: string | null;
};

/** Name of the access records' log_format. */
export const LOG_FORMAT_NAME = "sy_upstream";
/**
 * Version marker that starts every access record. Fields are separated by '|'
 * because nginx's own lists ($upstream_addr on retries) use ", " and " : ".
 * $host comes last: it is the only field a client can influence.
 * "sy2" added the bytes sent to and received from each upstream server, per try;
 * "sy1" records (an nginx adopted with an older config) are still read, without bytes.
 */
export const LOG_RECORD_MARKER = "sy2";
export const LOG_RECORD_MARKER_V1 = "sy1";
const LOG_FORMAT =
  `${LOG_RECORD_MARKER}|$proxy_host|$upstream_addr|$upstream_status|$upstream_response_time|$request_time|$status|$upstream_bytes_sent|$upstream_bytes_received|$host`;

/**
 * The access log is buffered per worker: one write() per buffer instead of one per
 * request (measured by bench/nginx-cost.ts). A record reaches the file at most
 * ACCESS_LOG_FLUSH_S after its request ended, or when its worker reopens the log
 * (rotation) or exits (a reload, a stop). A worker killed (SIGKILL, a crash) loses what
 * it held: the stats feed reports that as a gap (stats-feed.ts).
 */
export const ACCESS_LOG_BUFFER = "64k";
export const ACCESS_LOG_FLUSH_S = 1;

/** Key of a server in the down set and in the access log counters. */
export const serverKey = (host: string, port: number): string => `${host}:${port}`;

/** nginx upstream name of a service (service names are DNS labels, so '-' -> '_' is one-to-one). */
export const upstreamName = (serviceName: string): string => `up_${varSuffix(serviceName)}`;
const varSuffix = (serviceName: string): string => serviceName.replace(/-/g, "_");

const NEXT_UPSTREAM: Record<RetryCondition, string> = {
  conn_failure: "error",
  empty_response: "invalid_header",
  response_timeout: "timeout",
  status_502: "http_502",
  status_503: "http_503",
  status_504: "http_504",
};

// ---------------------------------------------------------------------------
// validation (again: the renderer never trusts its input)
// ---------------------------------------------------------------------------

const SERVER_NAME = /^[a-z0-9-]{1,64}$/;
const WORKER_USER = /^[a-z_][a-z0-9_-]{0,31}( [a-z_][a-z0-9_-]{0,31})?$/;
/** absolute path without quotes, backslashes, '$', ';', braces or control characters */
const SAFE_PATH = /^\/[A-Za-z0-9._/+@,=~-]*$/;

function fail(message: string): never {
  throw new AppError("bad_request", `nginx render: ${message}`);
}

function assertPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${what}: port ${port} is not 1..65535`);
}

function assertHost(host: string, what: string): void {
  if (typeof host !== "string" || !HOSTNAME.test(host)) fail(`${what}: "${host}" is not an IPv4 address or host name`);
}

function assertPath(p: string, what: string): void {
  if (!SAFE_PATH.test(p)) fail(`${what}: "${p}" must be an absolute path of letters, digits and ._/+@,=~-`);
}

function validate(config: BalancerConfig, opts: NginxRenderOptions): void {
  assertHost(config.listen.host, "listen");
  assertPort(config.listen.port, "listen");
  for (const [k, p] of Object.entries(opts.paths)) assertPath(p, `paths.${k}`);
  if (opts.workerUser != null && !WORKER_USER.test(opts.workerUser)) fail(`worker user "${opts.workerUser}" is not a user name`);
  const names = new Set<string>();
  for (const s of config.services) {
    if (!DNS_LABEL.test(s.name)) fail(`service name "${s.name}" is not a DNS label`);
    if (names.has(s.name)) fail(`service name "${s.name}" appears twice`);
    names.add(s.name);
    const r = s.rules;
    for (const route of r.routes) {
      for (const h of route.hosts) if (!HOST_PATTERN.test(h)) fail(`service ${s.name}: route host "${h}" is not a host name or *.wildcard`);
      if (!URL_PATH.test(route.path)) fail(`service ${s.name}: route path "${route.path}" is not a URL path`);
      if (route.match !== "prefix" && route.match !== "exact") fail(`service ${s.name}: route match "${String(route.match)}" is not prefix or exact`);
    }
    if (!URL_PATH.test(r.healthCheck.path)) fail(`service ${s.name}: health path "${r.healthCheck.path}" is not a URL path`);
    if (!COOKIE_NAME.test(r.sticky.cookieName)) fail(`service ${s.name}: cookie name "${r.sticky.cookieName}" is not allowed`);
    for (const v of [r.passive.maxFails, r.passive.failTimeoutMs, r.retries.count, r.timeouts.connectMs, r.timeouts.serverMs, r.timeouts.clientMs, r.sticky.maxAgeS]) {
      if (!Number.isInteger(v) || v < 0) fail(`service ${s.name}: ${v} is not a non-negative integer`);
    }
    for (const c of r.retries.on) if (!(c in NEXT_UPSTREAM)) fail(`service ${s.name}: unknown retry condition "${c}"`);
    const serverNames = new Set<string>();
    for (const srv of s.servers) {
      if (!SERVER_NAME.test(srv.name)) fail(`service ${s.name}: server name "${srv.name}" must be [a-z0-9-]`);
      if (serverNames.has(srv.name)) fail(`service ${s.name}: server name "${srv.name}" appears twice`);
      serverNames.add(srv.name);
      assertHost(srv.host, `server ${srv.name}`);
      assertPort(srv.port, `server ${srv.name}`);
      if (!Number.isInteger(srv.weight) || srv.weight < 0 || srv.weight > 256) fail(`server ${srv.name}: weight ${srv.weight} is not 0..256`);
      if (!["ready", "drain", "maint"].includes(srv.adminState)) fail(`server ${srv.name}: unknown admin state "${srv.adminState}"`);
    }
  }
}

// ---------------------------------------------------------------------------
// rendering
// ---------------------------------------------------------------------------

const q = (s: string): string => `"${s}"`;
const msDirective = (ms: number): string => `${ms}ms`;
/** nginx takes fail_timeout in whole seconds */
const seconds = (ms: number): string => `${Math.max(1, Math.ceil(ms / 1000))}s`;
/** "/api/" -> "/api"; "/" stays "/" (the same normalisation as lib/core/balancing) */
const trimSlash = (p: string): string => (p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p);

/** Is this server out of rotation in the rendered config, and why (for the comment)? */
function downReason(server: BalancerServer, down: ReadonlySet<string>): string | null {
  if (server.adminState === "maint") return "maint";
  if (server.adminState === "drain") return "drain: no new requests, in-flight ones finish";
  if (server.weight === 0) return "weight 0";
  if (down.has(serverKey(server.host, server.port))) return "panel probe: failing";
  return null;
}

function balancingLines(service: BalancerService): string[] {
  const r = service.rules;
  const v = varSuffix(service.name);
  // Stickiness decides the method: nginx runs one balancing method per upstream.
  if (r.sticky.mode === "cookie") return [`hash $sy_key_${v} consistent;`];
  if (r.sticky.mode === "source") return sourceHash();
  switch (r.algorithm) {
    case "round_robin":
      return ["# weighted round robin (nginx default)"];
    case "least_conn":
      return ["least_conn;"];
    case "random_two":
      return ["random two least_conn;"];
    case "source_hash":
      return sourceHash();
    case "uri_hash":
      return ["hash $request_uri consistent;"];
  }
}

function sourceHash(): string[] {
  // Not ip_hash: ip_hash keys IPv4 clients on their first three octets, so every
  // client of one /24 (all of 127.0.0.x, a whole office LAN) lands on one replica.
  return ["# source-IP hash on the whole address (ip_hash would only use the first three octets)", "hash $remote_addr consistent;"];
}

function upstreamBlock(service: BalancerService, down: ReadonlySet<string>): string[] {
  const r = service.rules;
  const out = [`upstream ${upstreamName(service.name)} {`, `    zone ${upstreamName(service.name)} 64k;`];
  for (const l of balancingLines(service)) out.push(`    ${l}`);
  // keepalive must follow the balancing method
  out.push("    keepalive 32;", "    keepalive_timeout 4s; # below Node's 5 s server keep-alive, so nginx never reuses a closing connection");
  for (const s of service.servers) {
    const why = downReason(s, down);
    const weight = Math.max(1, s.weight);
    const line = `server ${serverKey(s.host, s.port)} weight=${weight} max_fails=${r.passive.maxFails} fail_timeout=${seconds(r.passive.failTimeoutMs)}${why ? " down" : ""};`;
    out.push(`    ${line} # ${s.name} (${s.replicaId})${why ? `: ${why}` : ""}`);
  }
  out.push("}");
  return out;
}

/** The sticky cookie's Path: the route's path when the service has one prefix route, else "/". */
function cookiePath(routes: readonly ServiceRoute[]): string {
  return routes.length === 1 && routes[0].match === "prefix" ? trimSlash(routes[0].path) : "/";
}

function cookieMaps(service: BalancerService): string[] {
  const r = service.rules;
  const v = varSuffix(service.name);
  const name = r.sticky.cookieName;
  const attrs = [`Path=${cookiePath(r.routes)}`, "HttpOnly", "SameSite=Lax"];
  if (r.sticky.maxAgeS > 0) attrs.push(`Max-Age=${r.sticky.maxAgeS}`);
  return [
    `# ${service.name}: cookie stickiness on ${name}. nginx OSS cannot insert a cookie naming a replica, so a client`,
    `# without ${name} gets a random opaque value ($request_id) and the upstream hashes on it (consistently).`,
    `map $http_cookie $sy_ck_${v} {`,
    `    "~(?:^|;)\\s*${name}=([^;\\s]+)" $1;`,
    `    default "";`,
    "}",
    `map $sy_ck_${v} $sy_key_${v} {`,
    `    "" $request_id;`,
    `    default $sy_ck_${v};`,
    "}",
    `map $sy_ck_${v} $sy_setck_${v} {`,
    `    "" "${name}=$request_id; ${attrs.join("; ")}";`,
    `    default "";`,
    "}",
  ];
}

type RouteRef = Route & { stripPrefix: boolean; svc: BalancerService };

/**
 * The location blocks for one server block, whose requests carry `host` (a name
 * the block stands for). A location exists for every route path visible in the
 * block: `= /p` for an exact path, and for a prefix `= /p` plus `/p/` (whole
 * segments, like the model). Each location's target is what lib/core's
 * matchRoute picks for the paths that reach it: the exact path for `=`, and for
 * `/p/` any path under it (no exact route takes those: each has its own `=`).
 * So nginx's exact-then-longest-prefix choice lands on the service the model
 * picks, whatever the priorities say.
 */
function locations(routes: RouteRef[], host: string | null, hasUpstream: Set<string>): string[] {
  const prefixRoutes = routes.filter((r) => r.match === "prefix");
  const exact = new Set<string>();
  const prefixes = new Set<string>();
  for (const r of routes) {
    const p = r.match === "exact" ? r.path : trimSlash(r.path);
    if (r.match === "exact" || p !== "/") exact.add(p);
    // nginx answers /p with a 301 to /p/ when a location (= too) is /p/ and /p has none of its own
    if (r.match === "exact" && p.length > 1 && p.endsWith("/")) exact.add(trimSlash(p));
    if (r.match === "prefix") prefixes.add(p === "/" ? "/" : `${p}/`);
  }
  const out: string[] = [];
  for (const loc of [...new Set([...exact, ...prefixes])].sort()) {
    if (exact.has(loc)) {
      const target = matchRoute(routes, host, loc);
      if (target) out.push(...locationBlock(`= ${loc}`, target, loc, "exact", hasUpstream));
      else out.push(`location = ${loc} {`, `    return 503 "no route for this host and path\\n";`, "}");
    }
    if (prefixes.has(loc)) {
      const target = matchRoute(prefixRoutes, host, loc);
      if (target) out.push(...locationBlock(loc, target, loc === "/" ? "/" : loc.slice(0, -1), "prefix", hasUpstream));
    }
  }
  if (!prefixes.has("/")) {
    out.push("location / {", `    return 503 "no route for this host and path\\n";`, "}");
  }
  return out;
}

function locationBlock(match: string, target: RouteRef, locPrefix: string, kind: "exact" | "prefix", hasUpstream: Set<string>): string[] {
  const svc = target.svc;
  const r = svc.rules;
  const own = trimSlash(target.path);
  const out = [`location ${match} {`, `    # -> ${svc.name}${target.match === "prefix" && own !== locPrefix ? ` (its route ${own} wins here)` : ""}`];
  if (!hasUpstream.has(svc.name)) {
    out.push(`    return 503 "service ${svc.name} has no replicas\\n";`, "}");
    return out;
  }
  out.push(`    proxy_pass ${proxyPassTarget(svc, target, locPrefix, kind)};`);
  out.push(
    `    proxy_connect_timeout ${msDirective(r.timeouts.connectMs)};`,
    `    proxy_read_timeout ${msDirective(r.timeouts.serverMs)};`,
    `    proxy_send_timeout ${msDirective(r.timeouts.serverMs)};`,
    `    send_timeout ${msDirective(r.timeouts.clientMs)};`,
    `    client_body_timeout ${msDirective(r.timeouts.clientMs)};`,
  );
  const on = [...new Set(r.retries.on.map((c) => NEXT_UPSTREAM[c]))];
  if (r.retries.count > 0 && on.length > 0) {
    out.push(
      `    proxy_next_upstream ${on.join(" ")};`,
      `    proxy_next_upstream_tries ${r.retries.count + 1};`,
      `    proxy_next_upstream_timeout ${msDirective(r.timeouts.serverMs)};`,
    );
  } else {
    out.push("    proxy_next_upstream off;");
  }
  if (r.sticky.mode === "cookie") out.push(`    add_header Set-Cookie $sy_setck_${varSuffix(svc.name)};`);
  out.push("}");
  return out;
}

/**
 * proxy_pass with or without a URI part. With one, nginx replaces the part of
 * the request URI that the location matched: `location /api/` with
 * `proxy_pass http://up/;` sends /api/x as /x. The route's own path is what
 * gets stripped, which may be shorter than this location's (a shorter route
 * with a higher priority serving a longer location).
 */
function proxyPassTarget(svc: BalancerService, route: RouteRef, locPrefix: string, kind: "exact" | "prefix"): string {
  const base = `http://${upstreamName(svc.name)}`;
  const rp = route.match === "exact" ? route.path : trimSlash(route.path);
  if (!route.stripPrefix || rp === "/") return base;
  const rest = locPrefix.slice(rp.length); // "" or "/v2" (locPrefix lies under rp on a segment boundary)
  return kind === "exact" ? `${base}${rest || "/"}` : `${base}${rest}/`;
}

/**
 * A host name a "*.suffix" server block stands for: one label before the suffix,
 * so no deeper wildcard (nginx gives those their own, longer-matching block) and
 * no exact name (which has its own block) takes it.
 */
function wildcardProbe(pattern: string, exact: ReadonlySet<string>): string {
  for (let i = 0; ; i++) {
    const h = `sy-probe${i || ""}${pattern.slice(1)}`;
    if (!exact.has(h)) return h;
  }
}

// ------------------------------------------------------------------ listeners (issue 13)

/**
 * A server block's listen line, and for https its certificate: the one whose names take
 * the block's first name (SNI: nginx picks the block by server_name), else the
 * listener's default certificate; `names` null for the default_server block.
 */
function listenLines(listener: BalancerListener, names: readonly string[] | null): string[] {
  const addr = serverKey(listener.host, listener.port);
  if (listener.protocol !== "https") return [`    listen ${addr}${names === null ? " default_server" : ""};`];
  const cert = certificateFor(listener, names?.[0] ?? null);
  assertPath(cert.certFile, "certificate");
  assertPath(cert.keyFile, "certificate key");
  return [`    listen ${addr} ssl${names === null ? " default_server" : ""};`, `    ssl_certificate ${q(cert.certFile)};`, `    ssl_certificate_key ${q(cert.keyFile)};`];
}

/** The certificate an https listener serves for a server_name: the first whose names take it, else its default one. */
function certificateFor(listener: BalancerListener, name: string | null): BalancerCertificate {
  const certs = listener.certificates ?? [];
  const covers = (c: BalancerCertificate, n: string) => c.names.some((p) => p === n || (!n.startsWith("*.") && hostMatches(p, n)));
  return (name !== null && certs.find((c) => covers(c, name))) || certs[0];
}

/** An http listener that redirects: every request gets a 308 to the https port, same host and URI. */
function redirectServer(listener: BalancerListener): string[] {
  return ["server {", ...listenLines(listener, null), "    server_name _;", `    return 308 https://$host:${listener.redirectToHttpsPort}$request_uri;`, "}"];
}

export function renderNginx(config: BalancerConfig, opts: NginxRenderOptions): string {
  validate(config, opts);
  const down = opts.downServers ?? new Set<string>();
  const p = opts.paths;
  const listeners = checkedListeners(config);

  const routes: RouteRef[] = routesOfServices(config.services).map((r) => ({ ...r, stripPrefix: r.entry.stripPrefix, svc: config.services.find((s) => s.name === r.service)! }));
  const withServers = config.services.filter((s) => s.servers.length > 0);
  const hasUpstream = new Set(withServers.map((s) => s.name));

  const http: string[] = [
    `client_body_temp_path ${q(p.clientBodyTemp)};`,
    `proxy_temp_path ${q(p.proxyTemp)};`,
    `fastcgi_temp_path ${q(p.fastcgiTemp)};`,
    `uwsgi_temp_path ${q(p.uwsgiTemp)};`,
    `scgi_temp_path ${q(p.scgiTemp)};`,
    "",
    "server_tokens off;",
    "default_type text/plain;",
    "",
    "# One line per request, which the panel reads to count requests per replica (nginx OSS",
    "# has no per-server statistics) and rotates itself (rename, then reopen). Buffered per",
    `# worker: written when ${ACCESS_LOG_BUFFER} are full, ${ACCESS_LOG_FLUSH_S} s after the oldest record, at a reopen and`,
    "# when the worker exits (one write for hundreds of requests instead of one each). Default",
    "# escaping keeps a line one line.",
    `log_format ${LOG_FORMAT_NAME} '${LOG_FORMAT}';`,
    `access_log ${q(p.accessLog)} ${LOG_FORMAT_NAME} buffer=${ACCESS_LOG_BUFFER} flush=${ACCESS_LOG_FLUSH_S}s;`,
    "",
    "map $http_upgrade $connection_upgrade {",
    "    default upgrade;",
    '    "" "";',
    "}",
    "map $http_host $sy_host {",
    '    "" $host;',
    "    default $http_host;",
    "}",
    "",
    "proxy_http_version 1.1;",
    "proxy_set_header Host $sy_host;",
    "proxy_set_header Upgrade $http_upgrade;",
    '# "" keeps upstream connections alive; "upgrade" for WebSocket',
    "proxy_set_header Connection $connection_upgrade;",
    "proxy_set_header X-Real-IP $remote_addr;",
    "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_set_header X-Forwarded-Host $http_host;",
  ];

  for (const svc of config.services) {
    if (svc.rules.sticky.mode === "cookie" && hasUpstream.has(svc.name)) http.push("", ...cookieMaps(svc));
  }
  for (const svc of withServers) http.push("", ...upstreamBlock(svc, down));

  const allRoutes = routes;
  for (const listener of listeners) {
    if (listener.redirectToHttpsPort !== undefined) {
      http.push("", ...redirectServer(listener));
      continue;
    }
    const routes = allRoutes.filter((r) => servedOn(r, listener.name));
    // The default server takes every host no other block names: routes without a host.
    const anyHost = routes.filter((r) => r.hosts.length === 0);
    http.push(
      "",
      "server {",
      ...listenLines(listener, null),
      "    server_name _;",
      ...locations(anyHost, null, hasUpstream).map((l) => `    ${l}`),
      "}",
    );
    // A block per exact name and per wildcard (nginx prefers the exact name, then the
    // longest wildcard), holding every route that takes its hosts (any-host ones too).
    const patterns = [...new Set(routes.flatMap((r) => r.hosts))].sort();
    const exactNames = new Set(patterns.filter((h) => !h.startsWith("*.")));
    // Names whose blocks would be the same share one block: server_name a.local b.local *.local;
    const blocks = new Map<string, { names: string[]; lines: string[] }>();
    for (const h of patterns) {
      const probe = h.startsWith("*.") ? wildcardProbe(h, exactNames) : h;
      const visible = routes.filter((r) => routeTakesHost(r, probe));
      const lines = locations(visible, probe, hasUpstream);
      // an https block shares its server_name line only with names of the same certificate
      const key = `${listener.protocol === "https" ? certificateFor(listener, h).id : ""}\n${lines.join("\n")}`;
      const block = blocks.get(key);
      if (block) block.names.push(h);
      else blocks.set(key, { names: [h], lines });
    }
    for (const { names, lines } of blocks.values()) {
      http.push("", "server {", ...listenLines(listener, names), `    server_name ${names.join(" ")};`, ...lines.map((l) => `    ${l}`), "}");
    }
  }

  const main: string[] = [
    "# Rendered by Switchyard (nginx engine). Manual edits are overwritten by the next apply.",
    "worker_processes auto;",
    `pid ${q(p.pid)};`,
    `error_log ${q(p.errorLog)} warn;`,
  ];
  if (opts.workerUser) main.push(`user ${opts.workerUser};`);
  main.push("", "events {", "    worker_connections 1024;", "}", "", "http {", ...http.map((l) => (l ? `    ${l}` : "")), "}", "");
  return main.join("\n");
}
