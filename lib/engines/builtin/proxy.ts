import http from "node:http";
import net from "node:net";
import { EventEmitter } from "node:events";
import type { Pool } from "undici";
import { normalizeHost, pathOf, stripPathPrefix } from "../../core/balancing";
import { matchRoute } from "../../core/route-match";
import type { AdminState, RetryCondition } from "../../core/rules";
import type { BalancerConfig, BalancerServer, ServerStats } from "../types";
import { latencyBucketIndex, latencyRecord, statusClass } from "./counters";
import {
  appendSetCookie,
  classifyError,
  clientIpOf,
  clientResponseHeaders,
  describeError,
  type Failure,
  hasRequestBody,
  isIdempotent,
  isRetryable,
  stickyCookie,
  upgradeRequestHead,
  upstreamRequestHeaders,
} from "./http-rules";
import { type HealthState, isUp, reportHealth } from "./health";
import { scheduleCheck } from "./active-checks";
import { type ServerCounters, newCounters } from "./counters";
import { type Log, passiveFailure, pick, retryTarget, stickyTarget } from "./selection";
import { type RouteEntry, ServerRuntime, type ServiceRuntime, retireServer } from "./server-runtime";
import { sleep } from "../../process/sleep";
import { closeServer, reconcileListeners, type ListenerEntry } from "./listeners";
import { listenersOf } from "../types";

/**
 * The builtin engine's data plane: an HTTP reverse proxy that runs in its own
 * process (proxy-main.ts). It holds the live BalancerConfig in memory and swaps
 * it atomically on load(); requests already in flight keep the objects they
 * started with. Per-server counters, health and in-flight counts survive
 * reloads for servers that stay. Here: loading a config, the listener, forwarding
 * (HTTP and Upgrade tunnels), runtime changes, stats, shutdown. Each server's state is
 * in server-runtime.ts, choosing a server in selection.ts, active checks in
 * active-checks.ts.
 */

export type { Log };

/**
 * What this process does in the proxy (lib/engines/builtin/workers.ts runs several):
 * - single: everything, as one process (workers = 1)
 * - primary: no listener and no traffic; the active health checks, passive failure
 *   windows and the live config, so health is decided once for every worker
 * - worker: listeners and traffic; health comes from the primary (applyHealth), and a
 *   failed attempt is reported to it (onPassive) instead of counted here
 */
export type ProxyRole =
  | { kind: "single" }
  | { kind: "primary"; onHealth: (service: string, server: string, health: HealthState) => void }
  | {
      kind: "worker";
      onPassive: (service: string, server: string, why: Failure, detail: string) => void;
      /** its in-flight counts changed (batched per turn of the event loop; only services whose algorithm weighs them) */
      onActive: (entries: ActiveEntry[]) => void;
    };

/** One server's in-flight count, between a worker and the primary. */
export type ActiveEntry = { service: string; server: string; active: number };

export type ProxyOptions = {
  role?: ProxyRole;
  /** most keep-alive connections this process opens to one server (more requests queue for one); default 64 */
  upstreamConnections?: number;
};

/** One server's counters as a worker reports them to the primary (workers.ts sums them). */
export type WorkerServerCounters = { service: string; server: string; active: number; counters: ServerCounters };

/** How long an Upgrade tunnel stays open after one side finished sending. */
const TUNNEL_LINGER_MS = 2_000;

export class BuiltinProxy {
  private services = new Map<string, ServiceRuntime>();
  private routes: RouteEntry[] = [];
  /** the listening sockets by "host:port" (lib/engines/builtin/listeners.ts) */
  private listeners = new Map<string, ListenerEntry>();
  private listenAddr: { host: string; port: number } | null = null;
  private inflight = 0;
  private tunnels = new Set<net.Socket>();
  private draining = false;
  generation = 0;
  config: BalancerConfig | null = null;

  private readonly role: ProxyRole;
  private readonly upstreamConnections: number;

  constructor(
    private readonly log: Log,
    options: ProxyOptions = {},
  ) {
    this.role = options.role ?? { kind: "single" };
    this.upstreamConnections = options.upstreamConnections ?? 64;
  }

  get listening(): { host: string; port: number } | null {
    return this.listenAddr;
  }

  /**
   * Make `config` the live one. Binds a new listener first when the address
   * changed (a bind failure throws and leaves everything as it was), then swaps
   * services, servers and routes in one synchronous step.
   */
  async load(config: BalancerConfig): Promise<void> {
    // the primary of several workers binds nothing: its workers do (sharing each socket through node:cluster)
    const sockets = await reconcileListeners(this.listeners, this.role.kind === "primary" ? [] : listenersOf(config), {
      onRequest: (req, res, entry) => this.onRequest(req, res, entry),
      onUpgrade: (req, socket, head, entry) => this.onUpgrade(req, socket, head, entry),
      log: this.log,
    });
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
          retireServer(rt);
          rt = new ServerRuntime(s, svc, now, !firstLoad, this.upstreamConnections, counters);
          added.push(rt);
        } else if (rt) {
          rt.spec = s;
          rt.service = svc;
          rt.syncPool();
          rt.refresh(now);
          kept.add(rt);
        } else {
          rt = new ServerRuntime(s, svc, now, !firstLoad, this.upstreamConnections);
          added.push(rt);
        }
        svc.servers.push(rt);
        svc.byName.set(s.name, rt);
        svc.byReplica.set(s.replicaId, rt);
      }
      next.set(spec.name, svc);
    }
    for (const svc of this.services.values()) for (const rt of svc.servers) if (!kept.has(rt) && !rt.removed) retireServer(rt);

    if (this.role.kind === "worker") for (const svc of next.values()) for (const rt of svc.servers) rt.onActive = this.activeHook;

    this.services = next;
    this.routes = [...next.values()].flatMap((runtime) => runtime.spec.rules.routes.map((r, index) => ({ ...r, service: runtime.spec.name, index, runtime })));
    this.config = config;
    this.generation += 1;
    // active checks run once per proxy: in the single process, or in the primary of several workers
    if (this.role.kind !== "worker") for (const rt of added) scheduleCheck(rt, 0, this.log, this.healthHook());

    const clientMs = Math.max(1000, ...config.services.map((s) => s.rules.timeouts.clientMs));
    sockets.commit();
    this.listeners = sockets.next;
    this.listenAddr = { ...config.listen };
    for (const { server } of this.listeners.values()) {
      server.requestTimeout = clientMs;
      server.headersTimeout = Math.min(clientMs, 60_000);
    }
  }

  /** The service as the live config has it now (a reload may have replaced the one a request started with). */
  private current(svc: ServiceRuntime): ServiceRuntime {
    return this.services.get(svc.spec.name) ?? svc;
  }

  // -------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse, entry: ListenerEntry): void {
    this.inflight += 1;
    const ex: Exchange = { started: performance.now(), abort: null, clientGone: false, streaming: null, body: null };
    // one listener does all the request's ending (once() would wrap each in two more objects)
    res.on("close", () => this.closed(res, ex));
    const target = req.url ?? "/";
    const path = pathOf(target);
    if (entry.spec.redirectToHttpsPort !== undefined) {
      redirectToHttps(req, res, entry.spec.redirectToHttpsPort);
      return;
    }
    const route = matchRoute(this.routes, normalizeHost(req.headers.host), path, entry.spec.name);
    if (!route) {
      plainReply(res, 503, "503 Service Unavailable: no route for this host and path\n");
      return;
    }
    this.forward(route, req, res, target, path, ex).catch((e) => {
      this.log(`forward error: ${describeError(e)}`);
      if (!res.headersSent) plainReply(res, 502, "502 Bad Gateway\n");
      else res.destroy();
    });
  }

  /** The answer closed (sent whole, or the client went away): count, cancel, release. */
  private closed(res: http.ServerResponse, ex: Exchange): void {
    this.inflight -= 1;
    if (!res.writableFinished) {
      ex.clientGone = true;
      ex.abort?.emit("abort");
    }
    finishExchange(ex);
    const body = ex.body;
    if (body && !body.readableEnded) body.destroy();
  }

  private async forward(route: RouteEntry, req: http.IncomingMessage, res: http.ServerResponse, target: string, path: string, ex: Exchange): Promise<void> {
    const svc = route.runtime;
    const rules = svc.spec.rules;
    const clientIp = clientIpOf(req.socket.remoteAddress);
    const outPath = route.stripPrefix ? stripPathPrefix(target, route.path) : target;
    const headers = upstreamRequestHeaders(req.headers, clientIp);
    if (isTls(req.socket)) headers["x-forwarded-proto"] = "https";
    const hasBody = hasRequestBody(req.headers);
    const idempotent = isIdempotent(req.method);
    // The client went away before the answer was whole: cancel the upstream request.
    // undici takes an EventEmitter as its signal: no AbortController (and no DOMException
    // built when it aborts) per request (issue 18).
    const abort = new EventEmitter();
    ex.abort = abort;

    // the servers already tried, made on the first retry (most requests have none)
    let tried: Set<ServerRuntime> | null = null;
    const pinned = stickyTarget(svc, req.headers.cookie);
    let server = pinned ?? pick(svc, clientIp, path, NOTHING_TRIED);
    let lastError: { status: number; text: string } = { status: 503, text: "503 Service Unavailable: no server available\n" };

    for (let attempt = 0; ; attempt++) {
      if (!server) {
        plainReply(res, lastError.status, lastError.text);
        return;
      }
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
          signal: abort,
          headersTimeout: rules.timeouts.serverMs,
          bodyTimeout: rules.timeouts.serverMs,
        });
      } catch (err) {
        server.active -= 1;
        if (ex.clientGone) return;
        const why = classifyError(err);
        server.counters.connectionErrors += 1;
        this.passive(server, why, describeError(err));
        lastError =
          why === "response_timeout"
            ? { status: 504, text: "504 Gateway Timeout\n" }
            : { status: 502, text: `502 Bad Gateway: ${why === "conn_failure" ? "cannot connect to" : "no response from"} the server\n` };
        if (why !== "other" && canRetryMore && isRetryable(rules, why, hasBody, idempotent)) {
          (tried ??= new Set()).add(server);
          server = retryTarget(this.current(svc), server, tried, clientIp, path);
          continue;
        }
        plainReply(res, lastError.status, lastError.text);
        return;
      }

      if (ex.clientGone) {
        // the client left while the answer's head was on its way: nothing will close this exchange again
        server.active -= 1;
        upstream.body.destroy();
        return;
      }
      const status = upstream.statusCode;
      const cond = `status_${status}` as RetryCondition;
      if ((status === 502 || status === 503 || status === 504) && canRetryMore && isRetryable(rules, cond, hasBody, idempotent)) {
        (tried ??= new Set()).add(server);
        const next = retryTarget(this.current(svc), server, tried, clientIp, path);
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
      ex.streaming = done; // closed() or a broken stream releases it (finishExchange), once
      try {
        res.writeHead(status, outHeaders);
      } catch (e) {
        upstream.body.destroy();
        throw e;
      }
      // pipe, not stream.pipeline(): pipeline makes an AbortController per call and builds
      // a DOMException when it finishes (about 11 % of the proxy's time, issue 18). What it
      // did beyond pipe is here: a broken upstream stream ends the client's answer, a client
      // gone ends the upstream stream (closed()), and finishExchange() runs once either way.
      const body = upstream.body;
      ex.body = body;
      body.on("error", (err) => {
        if (!ex.clientGone) this.log(`response stream from ${svc.spec.name}/${done.spec.name} broke: ${describeError(err)}`);
        res.destroy();
        finishExchange(ex);
      });
      body.pipe(res);
      return;
    }
  }

  // -------------------------------------------------------------------------
  // WebSocket (any Upgrade): pick a server, then splice the two sockets
  // -------------------------------------------------------------------------

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, entry: ListenerEntry): void {
    socket.on("error", () => socket.destroy());
    const target = req.url ?? "/";
    const path = pathOf(target);
    const route = entry.spec.redirectToHttpsPort === undefined ? matchRoute(this.routes, normalizeHost(req.headers.host), path, entry.spec.name) : null;
    if (!route || this.draining) {
      rawReply(socket, 503, "no route for this host and path");
      return;
    }
    const svc = route.runtime;
    const rules = svc.spec.rules;
    const clientIp = clientIpOf(socket.remoteAddress);
    const outPath = route.stripPrefix ? stripPathPrefix(target, route.path) : target;
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
        this.passive(server, "conn_failure", describeError(err));
        const retry = n < rules.retries.count && rules.retries.on.includes("conn_failure") && !socket.destroyed;
        attempt(retry ? retryTarget(this.current(svc), server, tried, clientIp, path) : null, n + 1);
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
        const upgradeHead = upgradeRequestHead(req.method ?? "GET", outPath, req.rawHeaders, clientIp);
        up.write(isTls(socket) ? upgradeHead.replace("\r\nX-Forwarded-Proto: http\r\n", "\r\nX-Forwarded-Proto: https\r\n") : upgradeHead);
        if (head.length) up.write(head);
        socket.pipe(up);
        up.pipe(socket);
      });
    };
    attempt(stickyTarget(svc, req.headers.cookie) ?? pick(svc, clientIp, path, tried), 0);
  }

  // -------------------------------------------------------------------------
  // Health shared between the primary and its workers
  // -------------------------------------------------------------------------

  /** A worker's servers whose in-flight count changed since the last report to the primary. */
  private activeDirty = new Set<ServerRuntime>();

  /**
   * A worker: least_conn and random_two weigh every worker's in-flight requests, so a change
   * of this worker's count goes to the primary (at most once per turn of the event loop),
   * which tells the others. Round robin and the hashes do not need it and send nothing.
   */
  private readonly activeHook = (rt: ServerRuntime): void => {
    const algorithm = rt.rules.algorithm;
    if (algorithm !== "least_conn" && algorithm !== "random_two") return;
    if (this.activeDirty.size === 0) setImmediate(this.flushActive);
    this.activeDirty.add(rt);
  };

  private readonly flushActive = (): void => {
    const entries = [...this.activeDirty].map((rt) => ({ service: rt.service.spec.name, server: rt.spec.name, active: rt.active }));
    this.activeDirty.clear();
    if (this.role.kind === "worker") this.role.onActive(entries);
  };

  /** Worker: the other workers' in-flight counts, as the primary summed them. */
  applyOthersActive(entries: readonly ActiveEntry[]): void {
    for (const e of entries) {
      const rt = this.services.get(e.service)?.byName.get(e.server);
      if (rt) rt.othersActive = e.active;
    }
  }

  /** The primary tells its workers when a server's health changed (null: nobody to tell). */
  private healthHook(): ((rt: ServerRuntime) => void) | undefined {
    const role = this.role;
    if (role.kind !== "primary") return undefined;
    return (rt) => role.onHealth(rt.service.spec.name, rt.spec.name, rt.health);
  }

  /** A failed attempt: counted here (one process), or by the primary (a worker). */
  private passive(server: ServerRuntime, why: Failure, detail: string): void {
    if (this.role.kind === "worker") this.role.onPassive(server.service.spec.name, server.spec.name, why, detail);
    else passiveFailure(server, why, detail, this.log, this.healthHook());
  }

  /** Primary: a worker's failed attempt, counted in the server's window here. */
  passiveReport(service: string, server: string, why: Failure, detail: string): void {
    const rt = this.services.get(service)?.byName.get(server);
    if (rt && !rt.removed) passiveFailure(rt, why, detail, this.log, this.healthHook());
  }

  /** Worker: the health the primary decided for a server (ignored for a server this worker does not have). */
  applyHealth(service: string, server: string, health: HealthState): void {
    const rt = this.services.get(service)?.byName.get(server);
    if (!rt || rt.removed) return;
    rt.health = health;
    if (isUp(health)) rt.fails = [];
    rt.refresh(Date.now());
  }

  /** Primary: every server's health, for a worker that just loaded the config. */
  healthSnapshot(): { service: string; server: string; health: HealthState }[] {
    return [...this.services.values()].flatMap((svc) => svc.servers.map((rt) => ({ service: svc.spec.name, server: rt.spec.name, health: rt.health })));
  }

  /** Worker: its own counters and in-flight counts, for the primary to sum. */
  counters(): WorkerServerCounters[] {
    return [...this.services.values()].flatMap((svc) => svc.servers.map((rt) => ({ service: svc.spec.name, server: rt.spec.name, active: rt.active, counters: rt.counters })));
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

  /** Per-server stats; `from` (the primary) adds its workers' counters and in-flight counts to this process's own. */
  stats(from: readonly WorkerServerCounters[][] = []): ServerStats[] {
    const now = Date.now();
    const others = new Map<string, WorkerServerCounters[]>();
    for (const list of from) {
      for (const w of list) {
        const key = `${w.service}/${w.server}`;
        const had = others.get(key);
        if (had) had.push(w);
        else others.set(key, [w]);
      }
    }
    const out: ServerStats[] = [];
    for (const svc of this.services.values()) {
      for (const rt of svc.servers) {
        const extra = others.get(`${svc.spec.name}/${rt.spec.name}`) ?? [];
        const c = extra.length === 0 ? rt.counters : sumCounters([rt.counters, ...extra.map((w) => w.counters)]);
        out.push({
          service: svc.spec.name,
          server: rt.spec.name,
          totalRequests: c.totalRequests,
          activeConnections: extra.reduce((n, w) => n + w.active, rt.active),
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
    const servers = [...this.listeners.values()].map((l) => l.server);
    for (const server of servers) closeServer(server);
    const deadline = Date.now() + graceMs;
    while (this.inflight > 0 && Date.now() < deadline) await sleep(25);
    for (const server of servers) server.closeAllConnections();
    for (const s of this.tunnels) s.destroy();
    for (const svc of this.services.values()) for (const rt of svc.servers) retireServer(rt);
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** One HTTP request's ending state (one object instead of four closures and once() wrappers, issue 18). */
type Exchange = {
  started: number;
  /** undici's signal: emits "abort" when the client goes away before the answer is whole */
  abort: EventEmitter | null;
  clientGone: boolean;
  /** the server whose answer streams to the client, until finishExchange() releases it */
  streaming: ServerRuntime | null;
  body: import("node:stream").Readable | null;
};

/** No server tried yet (shared: most requests never retry). */
const NOTHING_TRIED: ReadonlySet<ServerRuntime> = new Set();

/** The answer is over (whole, cut or broken): the server's in-flight count and latency, once. */
function finishExchange(ex: Exchange): void {
  const server = ex.streaming;
  if (!server) return;
  ex.streaming = null;
  server.active -= 1;
  server.counters.latency[latencyBucketIndex(performance.now() - ex.started)] += 1;
}

/** Counters added up (the workers' of one server): exact sums, latency buckets per bucket. */
export function sumCounters(list: readonly ServerCounters[]): ServerCounters {
  const out = newCounters();
  for (const c of list) {
    out.totalRequests += c.totalRequests;
    out.connectionErrors += c.connectionErrors;
    out.retries += c.retries;
    out.redispatches += c.redispatches;
    for (const k of Object.keys(out.responses) as (keyof ServerCounters["responses"])[]) out.responses[k] += c.responses[k] ?? 0;
    for (let i = 0; i < out.latency.length; i++) out.latency[i] += c.latency[i] ?? 0;
  }
  return out;
}

/** Was this request or upgrade received over TLS (an https listener)? */
function isTls(socket: net.Socket): boolean {
  return (socket as net.Socket & { encrypted?: boolean }).encrypted === true;
}

/** 308 to the same host (without its port) and URI on the https listener's port. */
function redirectToHttps(req: http.IncomingMessage, res: http.ServerResponse, port: number): void {
  const host = normalizeHost(req.headers.host);
  if (!host) {
    plainReply(res, 400, "400 Bad Request: no Host to redirect to\n");
    return;
  }
  res.writeHead(308, { location: `https://${host}:${port}${req.url ?? "/"}`, "content-length": "0" });
  res.end();
}

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
