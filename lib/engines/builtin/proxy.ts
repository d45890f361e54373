import http from "node:http";
import net from "node:net";
import { pipeline } from "node:stream";
import { Pool } from "undici";
import {
  type Candidate,
  type Route,
  type WrrState,
  consistentHashPick,
  leastConnPick,
  matchRoute,
  normalizeHost,
  pathOf,
  randomTwoPick,
  slowStartWeight,
  smoothWrrPick,
  stripPathPrefix,
} from "../../core/balancing";
import type { AdminState, RetryCondition, Rules } from "../../core/rules";
import type { BalancerConfig, BalancerServer, BalancerService, ServerStats } from "../types";
import { type ServerCounters, latencyBucketIndex, latencyRecord, newCounters, statusClass } from "./counters";
import {
  type Failure,
  appendSetCookie,
  checkErrorReason,
  classifyError,
  clientIpOf,
  clientResponseHeaders,
  describeError,
  hasRequestBody,
  isIdempotent,
  isRetryable,
  readCookie,
  stickyCookie,
  upgradeRequestHead,
  upstreamRequestHeaders,
} from "./http-rules";
import { type HealthState, initialHealth, isEligible, isUp, markPassiveDown, observeCheck, recordFailure, reportHealth } from "./health";
import { sleep } from "../../process/sleep";

/**
 * The builtin engine's data plane: an HTTP reverse proxy that runs in its own
 * process (proxy-main.ts). It holds the live BalancerConfig in memory and swaps
 * it atomically on load(); requests already in flight keep the objects they
 * started with. Per-server counters, health and in-flight counts survive
 * reloads for servers that stay.
 */

export type Log = (line: string) => void;

/** How long in-flight requests of a removed server may take before its connections are cut. */
const RETIRED_POOL_GRACE_MS = 60_000;
/** How long an Upgrade tunnel stays open after one side finished sending. */
const TUNNEL_LINGER_MS = 2_000;

class ServerRuntime {
  spec: BalancerServer;
  service: ServiceRuntime;
  pool: Pool;
  private poolKey: string;
  active = 0;
  counters: ServerCounters;
  health: HealthState;
  fails: number[] = [];
  /** when it last became eligible (for slow start); null = full weight */
  upSince: number | null;
  private wasEligible: boolean;
  checkTimer: NodeJS.Timeout | null = null;
  removed = false;

  constructor(spec: BalancerServer, service: ServiceRuntime, now: number, rampUp: boolean, counters?: ServerCounters) {
    this.spec = spec;
    this.service = service;
    this.counters = counters ?? newCounters();
    this.health = initialHealth(now);
    this.poolKey = this.wantedPoolKey();
    this.pool = this.newPool();
    this.wasEligible = !rampUp && this.eligible();
    this.upSince = rampUp ? now : null;
  }

  get rules(): Rules {
    return this.service.spec.rules;
  }

  eligible(): boolean {
    return isEligible(this.spec.adminState, this.health);
  }

  /** Call after anything that can change eligibility: starts the slow-start ramp on the way in. */
  refresh(now: number): void {
    const e = this.eligible();
    if (e && !this.wasEligible) this.upSince = now;
    this.wasEligible = e;
  }

  effectiveWeight(now: number): number {
    return slowStartWeight(this.spec.weight, this.upSince === null ? null : now - this.upSince, this.rules.slowStartMs);
  }

  private wantedPoolKey(): string {
    return `${this.spec.host}:${this.spec.port}:${this.rules.timeouts.connectMs}`;
  }

  private newPool(): Pool {
    return new Pool(`http://${this.spec.host}:${this.spec.port}`, {
      connect: { timeout: this.rules.timeouts.connectMs },
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    });
  }

  /** Replace the pool when the address or connect timeout changed; the old one finishes what it has. */
  syncPool(): void {
    const key = this.wantedPoolKey();
    if (key === this.poolKey) return;
    retirePool(this.pool);
    this.poolKey = key;
    this.pool = this.newPool();
  }
}

function retirePool(pool: Pool): void {
  const timer = setTimeout(() => void pool.destroy().catch(() => {}), RETIRED_POOL_GRACE_MS);
  timer.unref();
  pool.close().then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
}

type ServiceRuntime = {
  spec: BalancerService;
  servers: ServerRuntime[];
  byName: Map<string, ServerRuntime>;
  byReplica: Map<string, ServerRuntime>;
  wrr: WrrState;
  tie: number;
};

type RouteEntry = Route & { runtime: ServiceRuntime };

export class BuiltinProxy {
  private services = new Map<string, ServiceRuntime>();
  private routes: RouteEntry[] = [];
  private listener: http.Server | null = null;
  private listenAddr: { host: string; port: number } | null = null;
  private inflight = 0;
  private tunnels = new Set<net.Socket>();
  private draining = false;
  generation = 0;
  config: BalancerConfig | null = null;

  constructor(private readonly log: Log) {}

  get listening(): { host: string; port: number } | null {
    return this.listenAddr;
  }

  /**
   * Make `config` the live one. Binds a new listener first when the address
   * changed (a bind failure throws and leaves everything as it was), then swaps
   * services, servers and routes in one synchronous step.
   */
  async load(config: BalancerConfig): Promise<void> {
    let newListener: http.Server | null = null;
    if (!this.listenAddr || this.listenAddr.host !== config.listen.host || this.listenAddr.port !== config.listen.port) {
      newListener = await this.bind(config.listen);
    }
    const now = Date.now();
    const firstLoad = this.generation === 0;
    const next = new Map<string, ServiceRuntime>();
    const kept = new Set<ServerRuntime>();
    const added: ServerRuntime[] = [];
    for (const spec of config.services) {
      const old = this.services.get(spec.name);
      // Round robin restarts its cycle on every load (as nginx does on reload), so weights apply exactly from here on.
      const svc: ServiceRuntime = { spec, servers: [], byName: new Map(), byReplica: new Map(), wrr: {}, tie: old?.tie ?? 0 };
      for (const s of spec.servers) {
        let rt = old?.byName.get(s.name);
        if (rt && (rt.spec.host !== s.host || rt.spec.port !== s.port)) {
          // same name, new address: a new server as far as health goes; keep its counters
          const counters = rt.counters;
          this.retire(rt);
          rt = new ServerRuntime(s, svc, now, !firstLoad, counters);
          added.push(rt);
        } else if (rt) {
          rt.spec = s;
          rt.service = svc;
          rt.syncPool();
          rt.refresh(now);
          kept.add(rt);
        } else {
          rt = new ServerRuntime(s, svc, now, !firstLoad);
          added.push(rt);
        }
        svc.servers.push(rt);
        svc.byName.set(s.name, rt);
        svc.byReplica.set(s.replicaId, rt);
      }
      next.set(spec.name, svc);
    }
    for (const svc of this.services.values()) for (const rt of svc.servers) if (!kept.has(rt) && !rt.removed) this.retire(rt);

    this.services = next;
    this.routes = [...next.values()].map((runtime) => ({ service: runtime.spec.name, ...runtime.spec.rules.route, runtime }));
    this.config = config;
    this.generation += 1;
    for (const rt of added) this.scheduleCheck(rt, 0);

    const clientMs = Math.max(1000, ...config.services.map((s) => s.rules.timeouts.clientMs));
    if (newListener) {
      const old = this.listener;
      this.listener = newListener;
      this.listenAddr = { ...config.listen };
      if (old) this.closeListener(old);
    }
    this.listener!.requestTimeout = clientMs;
    this.listener!.headersTimeout = Math.min(clientMs, 60_000);
  }

  private retire(rt: ServerRuntime): void {
    rt.removed = true;
    if (rt.checkTimer) clearTimeout(rt.checkTimer);
    rt.checkTimer = null;
    retirePool(rt.pool);
  }

  private bind(listen: { host: string; port: number }): Promise<http.Server> {
    const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 30_000, keepAliveTimeout: 5_000 }, (req, res) => this.onRequest(req, res));
    server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      else socket.destroy();
    });
    return new Promise((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${listen.host}:${listen.port}: ${e.code ?? e.message}`)));
      server.listen(listen.port, listen.host, () => {
        server.removeAllListeners("error");
        server.on("error", (e) => this.log(`listener error: ${e.message}`));
        resolve(server);
      });
    });
  }

  private closeListener(server: http.Server): void {
    server.close();
    server.closeIdleConnections();
  }

  // -------------------------------------------------------------------------
  // Selection
  // -------------------------------------------------------------------------

  private current(svc: ServiceRuntime): ServiceRuntime {
    return this.services.get(svc.spec.name) ?? svc;
  }

  private pick(svc: ServiceRuntime, clientIp: string, path: string, exclude: ReadonlySet<ServerRuntime>): ServerRuntime | null {
    const now = Date.now();
    const candidates: Candidate[] = [];
    for (const s of svc.servers) {
      if (exclude.has(s) || !s.eligible()) continue;
      candidates.push({ name: s.spec.name, weight: s.effectiveWeight(now), active: s.active });
    }
    if (candidates.length === 0) return null;
    const rules = svc.spec.rules;
    let name: string | null;
    if (rules.sticky.mode === "source" || rules.algorithm === "source_hash") name = consistentHashPick(clientIp, candidates);
    else if (rules.algorithm === "uri_hash") name = consistentHashPick(path, candidates);
    else if (rules.algorithm === "least_conn") name = leastConnPick(candidates, svc.tie++);
    else if (rules.algorithm === "random_two") name = randomTwoPick(candidates, Math.random);
    else {
      const r = smoothWrrPick(svc.wrr, candidates);
      // a retry (exclusions) must not forget the state of the servers it skipped
      if (exclude.size === 0) svc.wrr = r.state;
      name = r.pick;
    }
    return name === null ? null : (svc.byName.get(name) ?? null);
  }

  /** The server a sticky cookie points at, if it may take the request. */
  private stickyTarget(svc: ServiceRuntime, cookieHeader: string | undefined): ServerRuntime | null {
    const sticky = svc.spec.rules.sticky;
    if (sticky.mode !== "cookie") return null;
    const id = readCookie(cookieHeader, sticky.cookieName);
    if (id === null) return null;
    const s = svc.byReplica.get(id);
    return s && s.eligible() ? s : null;
  }

  // -------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.inflight += 1;
    res.once("close", () => (this.inflight -= 1));
    const target = req.url ?? "/";
    const path = pathOf(target);
    const route = matchRoute(this.routes, normalizeHost(req.headers.host), path);
    if (!route) {
      plainReply(res, 503, "503 Service Unavailable: no route for this host and path\n");
      return;
    }
    this.forward(route.runtime, req, res, target, path).catch((e) => {
      this.log(`forward error: ${describeError(e)}`);
      if (!res.headersSent) plainReply(res, 502, "502 Bad Gateway\n");
      else res.destroy();
    });
  }

  private async forward(svc: ServiceRuntime, req: http.IncomingMessage, res: http.ServerResponse, target: string, path: string): Promise<void> {
    const started = performance.now();
    const rules = svc.spec.rules;
    const clientIp = clientIpOf(req.socket.remoteAddress);
    const outPath = rules.route.stripPrefix ? stripPathPrefix(target, rules.route.pathPrefix) : target;
    const headers = upstreamRequestHeaders(req.headers, clientIp);
    const hasBody = hasRequestBody(req.headers);
    const idempotent = isIdempotent(req.method);
    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) abort.abort();
    });

    const tried = new Set<ServerRuntime>();
    const pinned = this.stickyTarget(svc, req.headers.cookie);
    let server = pinned ?? this.pick(svc, clientIp, path, tried);
    let lastError: { status: number; text: string } = { status: 503, text: "503 Service Unavailable: no server available\n" };

    for (let attempt = 0; ; attempt++) {
      if (!server) {
        plainReply(res, lastError.status, lastError.text);
        return;
      }
      tried.add(server);
      server.active += 1;
      server.counters.totalRequests += 1;
      const canRetryMore = attempt < rules.retries.count;

      let upstream: Awaited<ReturnType<Pool["request"]>>;
      try {
        upstream = await server.pool.request({
          path: outPath,
          method: (req.method ?? "GET") as "GET",
          headers,
          body: hasBody ? req : null,
          signal: abort.signal,
          headersTimeout: rules.timeouts.serverMs,
          bodyTimeout: rules.timeouts.serverMs,
        });
      } catch (err) {
        server.active -= 1;
        if (abort.signal.aborted) return; // the client went away
        const why = classifyError(err);
        server.counters.connectionErrors += 1;
        this.passiveFailure(server, why, describeError(err));
        lastError =
          why === "response_timeout"
            ? { status: 504, text: "504 Gateway Timeout\n" }
            : { status: 502, text: `502 Bad Gateway: ${why === "conn_failure" ? "cannot connect to" : "no response from"} the server\n` };
        if (why !== "other" && canRetryMore && isRetryable(rules, why, hasBody, idempotent)) {
          server = this.retryTarget(svc, server, tried, clientIp, path);
          continue;
        }
        plainReply(res, lastError.status, lastError.text);
        return;
      }

      const status = upstream.statusCode;
      const cond = `status_${status}` as RetryCondition;
      if ((status === 502 || status === 503 || status === 504) && canRetryMore && isRetryable(rules, cond, hasBody, idempotent)) {
        const next = this.retryTarget(svc, server, tried, clientIp, path);
        if (next) {
          server.counters.responses["5xx"] += 1;
          server.active -= 1;
          upstream.body.resume();
          upstream.body.on("error", () => {});
          server = next;
          continue;
        }
      }

      // Stream the answer.
      server.counters.responses[statusClass(status)] += 1;
      const outHeaders = clientResponseHeaders(upstream.headers);
      if (rules.sticky.mode === "cookie" && server !== pinned) appendSetCookie(outHeaders, stickyCookie(rules, server.spec.replicaId));
      if (this.draining) outHeaders.connection = "close";
      const done = server;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        done.active -= 1;
        done.counters.latency[latencyBucketIndex(performance.now() - started)] += 1;
      };
      res.once("close", finish);
      try {
        res.writeHead(status, outHeaders);
      } catch (e) {
        upstream.body.destroy();
        throw e;
      }
      pipeline(upstream.body, res, (err) => {
        if (err && !abort.signal.aborted) this.log(`response stream from ${svc.spec.name}/${done.spec.name} broke: ${describeError(err)}`);
        finish();
      });
      return;
    }
  }

  /** Where a failed attempt goes next: another server with redispatch, the same one without. */
  private retryTarget(svc: ServiceRuntime, failed: ServerRuntime, tried: Set<ServerRuntime>, clientIp: string, path: string): ServerRuntime | null {
    const live = this.current(svc);
    const next = live.spec.rules.retries.redispatch ? this.pick(live, clientIp, path, tried) : failed.removed ? null : failed;
    if (next) failed.counters.retries += 1;
    if (next && next !== failed) failed.counters.redispatches += 1;
    return next;
  }

  private passiveFailure(server: ServerRuntime, why: Failure, detail: string): void {
    const { maxFails, failTimeoutMs } = server.rules.passive;
    const now = Date.now();
    const r = recordFailure(server.fails, now, failTimeoutMs, maxFails);
    server.fails = r.times;
    if (!r.tripped || server.health.passiveDown !== null) return;
    const wasUp = isUp(server.health);
    server.health = markPassiveDown(server.health, `passive: ${maxFails} failures in ${failTimeoutMs} ms (${why}: ${detail})`, now);
    server.refresh(now);
    if (wasUp) this.log(`${server.service.spec.name}/${server.spec.name} DOWN ${server.health.passiveDown}`);
  }

  // -------------------------------------------------------------------------
  // WebSocket (any Upgrade): pick a server, then splice the two sockets
  // -------------------------------------------------------------------------

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const target = req.url ?? "/";
    const path = pathOf(target);
    const route = matchRoute(this.routes, normalizeHost(req.headers.host), path);
    if (!route || this.draining) {
      rawReply(socket, 503, "no route for this host and path");
      return;
    }
    const svc = route.runtime;
    const rules = svc.spec.rules;
    const clientIp = clientIpOf(socket.remoteAddress);
    const outPath = rules.route.stripPrefix ? stripPathPrefix(target, rules.route.pathPrefix) : target;
    const tried = new Set<ServerRuntime>();
    const attempt = (server: ServerRuntime | null, n: number): void => {
      if (!server) {
        rawReply(socket, n === 0 ? 503 : 502, n === 0 ? "no server available" : "cannot connect to the server");
        return;
      }
      tried.add(server);
      server.counters.totalRequests += 1;
      const up = net.connect({ host: server.spec.host, port: server.spec.port });
      up.setTimeout(server.rules.timeouts.connectMs);
      up.once("timeout", () => up.destroy(Object.assign(new Error("connect timeout"), { code: "UND_ERR_CONNECT_TIMEOUT" })));
      const onConnectError = (err: Error) => {
        server.counters.connectionErrors += 1;
        this.passiveFailure(server, "conn_failure", describeError(err));
        const retry = n < rules.retries.count && rules.retries.on.includes("conn_failure") && !socket.destroyed;
        attempt(retry ? this.retryTarget(svc, server, tried, clientIp, path) : null, n + 1);
      };
      up.once("error", onConnectError);
      up.once("connect", () => {
        up.off("error", onConnectError);
        up.setTimeout(0);
        up.setNoDelay(true);
        server.active += 1;
        this.tunnels.add(socket);
        const close = () => {
          if (!this.tunnels.delete(socket)) return;
          server.active -= 1;
          socket.destroy();
          up.destroy();
        };
        // Half-closes pass through (pipe ends the other side); a peer that never
        // finishes its half does not keep the tunnel open for more than TUNNEL_LINGER_MS.
        const linger = () => setTimeout(close, TUNNEL_LINGER_MS).unref();
        up.on("error", close);
        up.on("close", close);
        up.on("end", linger);
        socket.on("close", close);
        socket.on("end", linger);
        up.write(upgradeRequestHead(req.method ?? "GET", outPath, req.rawHeaders, clientIp));
        if (head.length) up.write(head);
        socket.pipe(up);
        up.pipe(socket);
      });
    };
    attempt(this.stickyTarget(svc, req.headers.cookie) ?? this.pick(svc, clientIp, path, tried), 0);
  }

  // -------------------------------------------------------------------------
  // Active health checks
  // -------------------------------------------------------------------------

  private scheduleCheck(rt: ServerRuntime, delayMs: number): void {
    if (rt.removed) return;
    rt.checkTimer = setTimeout(() => this.runCheck(rt), delayMs);
  }

  private runCheck(rt: ServerRuntime): void {
    if (rt.removed) return;
    const hc = rt.rules.healthCheck;
    const started = Date.now();
    probe(rt.spec.host, rt.spec.port, hc.path, hc.timeoutMs, (status, reason) => {
      if (rt.removed) return;
      const now = Date.now();
      const wasUp = isUp(rt.health);
      const live = rt.rules.healthCheck; // may have changed by a reload during the check
      rt.health = observeCheck(rt.health, status === live.expectStatus, reason, now, live.rise, live.fall);
      if (isUp(rt.health) !== wasUp) {
        this.log(`${rt.service.spec.name}/${rt.spec.name} ${isUp(rt.health) ? "UP" : "DOWN"} (${reason})`);
        if (isUp(rt.health)) rt.fails = [];
      }
      rt.refresh(now);
      this.scheduleCheck(rt, Math.max(0, live.intervalMs - (now - started)));
    });
  }

  // -------------------------------------------------------------------------
  // Runtime changes and stats
  // -------------------------------------------------------------------------

  private server(service: string, server: string): ServerRuntime {
    const svc = this.services.get(service);
    if (!svc) throw new Error(`no service ${service}`);
    const rt = svc.byName.get(server);
    if (!rt) throw new Error(`no server ${server} in service ${service}`);
    return rt;
  }

  setState(service: string, server: string, state: AdminState): void {
    const rt = this.server(service, server);
    this.replaceSpec(rt, { ...rt.spec, adminState: state });
    this.log(`${service}/${server} state ${state}`);
  }

  setWeight(service: string, server: string, weight: number): void {
    const rt = this.server(service, server);
    this.replaceSpec(rt, { ...rt.spec, weight });
    this.log(`${service}/${server} weight ${weight}`);
  }

  /** Change one server's spec and keep config / service spec coherent with it. */
  private replaceSpec(rt: ServerRuntime, spec: BalancerServer): void {
    rt.spec = spec;
    const svc = rt.service;
    svc.spec = { ...svc.spec, servers: svc.spec.servers.map((s) => (s.name === spec.name ? spec : s)) };
    if (this.config) this.config = { ...this.config, services: this.config.services.map((s) => (s.name === svc.spec.name ? svc.spec : s)) };
    rt.refresh(Date.now());
  }

  stats(): ServerStats[] {
    const now = Date.now();
    const out: ServerStats[] = [];
    for (const svc of this.services.values()) {
      for (const rt of svc.servers) {
        const c = rt.counters;
        out.push({
          service: svc.spec.name,
          server: rt.spec.name,
          totalRequests: c.totalRequests,
          activeConnections: rt.active,
          responses: { ...c.responses },
          connectionErrors: c.connectionErrors,
          retries: c.retries,
          redispatches: c.redispatches,
          latencyBuckets: latencyRecord(c.latency),
          health: reportHealth(rt.spec.adminState, rt.health, now),
        });
      }
    }
    return out;
  }

  /** Stop accepting, let in-flight requests finish for up to `graceMs`, then cut what is left. */
  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    const listener = this.listener;
    if (listener) this.closeListener(listener);
    const deadline = Date.now() + graceMs;
    while (this.inflight > 0 && Date.now() < deadline) await sleep(25);
    listener?.closeAllConnections();
    for (const s of this.tunnels) s.destroy();
    for (const svc of this.services.values()) for (const rt of svc.servers) this.retire(rt);
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function plainReply(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

function rawReply(socket: net.Socket, status: number, text: string): void {
  const reason = http.STATUS_CODES[status] ?? "Error";
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text) + 1}\r\nConnection: close\r\n\r\n${text}\n`);
}

/** One active health check: GET path on a fresh connection. Calls back once with the status (0 on failure) and a reason. */
function probe(host: string, port: number, path: string, timeoutMs: number, done: (status: number, reason: string) => void): void {
  let settled = false;
  const finish = (status: number, reason: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.destroy();
    done(status, reason);
  };
  const req = http.request({ host, port, path, method: "GET", agent: false, headers: { "user-agent": "switchyard-builtin-check", connection: "close" } }, (res) => {
    res.resume();
    finish(res.statusCode ?? 0, `HTTP ${res.statusCode}`);
  });
  req.on("error", (e) => finish(0, checkErrorReason(e)));
  const timer = setTimeout(() => finish(0, "timeout"), timeoutMs);
  req.end();
}
