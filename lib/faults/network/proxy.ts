/**
 * The fault proxy (issue 14, item 2): one per faulted replica, on loopback, between the
 * balancer and the replica's data address. The engine's server address points at it only
 * while a network fault is active, so nothing is in the data path otherwise, and the
 * panel's direct path (management, custom actions, health) never passes through it.
 *
 * Effects, per connection or per request:
 * - reset: every accepted connection is reset (TCP RST), nothing is read;
 * - blackhole: every accepted connection is held and never answered (what arrives is
 *   read and dropped; at most MAX_HELD are held at once);
 * - errorRate: that share of HTTP requests is answered here with 503, each request
 *   drawn on its own, also on keep-alive connections (the rest is forwarded);
 * - latencyMs: every forwarded HTTP request waits that long before it is sent on.
 * Bodies are streamed both ways (backpressure, never buffered whole); WebSocket and
 * other upgrades are passed through as raw byte streams after the same latency.
 *
 * Only node: modules and relative imports: it runs in its own process (proxy-main.ts).
 */
import http from "node:http";
import net from "node:net";

export type FaultEffects = {
  latencyMs: number;
  errorRate: number;
  reset: boolean;
  blackhole: boolean;
};

export type FaultProxyOptions = {
  listen: { host: string; port: number };
  target: { host: string; port: number };
  effects: FaultEffects;
  /** draws in [0, 1) for the error share; default Math.random */
  random?: () => number;
};

export type FaultProxyCounts = { connections: number; forwarded: number; errors: number; resets: number; held: number; upgrades: number };

/** Connections a black hole holds at once; later ones are closed (the kernel still bounds each one's buffer). */
export const MAX_HELD = 1024;

/** The status and body an injected error answers with. */
export const FAULT_STATUS = 503;
const FAULT_BODY = "fault injected by the switchyard fault proxy\n";

/** Hop-by-hop headers (RFC 9110 7.6.1): never forwarded by a proxy. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Pure: does this request get an injected error? */
export function drawsError(errorRate: number, draw: number): boolean {
  return errorRate > 0 && draw < errorRate;
}

/** Pure: request headers as the replica gets them (hop-by-hop ones, and those `Connection` names, dropped). */
export function forwardedHeaders(raw: readonly string[]): [string, string][] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === "connection") for (const t of raw[i + 1].split(",")) named.add(t.trim().toLowerCase());
  }
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (!HOP_BY_HOP.has(k) && !named.has(k)) out.push([raw[i], raw[i + 1]]);
  }
  return out;
}

export class FaultProxy {
  readonly counts: FaultProxyCounts = { connections: 0, forwarded: 0, errors: 0, resets: 0, held: 0, upgrades: 0 };
  private readonly server: net.Server;
  private readonly http: http.Server;
  private readonly agent: http.Agent;
  private readonly held = new Set<net.Socket>();
  /** both ends of every upgraded (WebSocket) connection, destroyed on close() */
  private readonly tunnels = new Set<net.Socket>();
  private readonly random: () => number;

  constructor(private readonly opts: FaultProxyOptions) {
    this.random = opts.random ?? Math.random;
    this.agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
    this.http = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => this.onRequest(req, res));
    this.http.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on("clientError", (_e, socket: net.Socket) => socket.destroy());
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: this.opts.listen.host, port: this.opts.listen.port, exclusive: true }, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stop accepting, drop what is held, let forwarded requests finish for up to `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    for (const s of [...this.held, ...this.tunnels]) s.destroy();
    this.held.clear();
    this.tunnels.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.http.closeIdleConnections();
    const timer = setTimeout(() => this.http.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    this.agent.destroy();
  }

  private onConnection(socket: net.Socket): void {
    this.counts.connections++;
    const fx = this.opts.effects;
    socket.on("error", () => socket.destroy());
    if (fx.reset) {
      this.counts.resets++;
      socket.resetAndDestroy();
      return;
    }
    if (fx.blackhole) {
      if (this.held.size >= MAX_HELD) {
        socket.destroy();
        return;
      }
      this.counts.held++;
      this.held.add(socket);
      // read and drop what arrives (memory stays bounded), answer nothing; a peer that gives up closes it
      socket.on("data", () => undefined);
      socket.once("end", () => socket.destroy());
      socket.once("close", () => this.held.delete(socket));
      return;
    }
    this.http.emit("connection", socket);
  }

  private afterLatency(req: http.IncomingMessage, go: () => void): void {
    const ms = this.opts.effects.latencyMs;
    if (ms <= 0) return go();
    const timer = setTimeout(go, ms);
    req.socket.once("close", () => clearTimeout(timer));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (drawsError(this.opts.effects.errorRate, this.random())) {
      this.counts.errors++;
      req.resume(); // read and drop the body, so the connection stays usable
      res.writeHead(FAULT_STATUS, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(FAULT_BODY), "x-switchyard-fault": "error" });
      res.end(FAULT_BODY);
      return;
    }
    this.afterLatency(req, () => this.forward(req, res));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.forwarded++;
    const upstream = http.request({
      host: this.opts.target.host,
      port: this.opts.target.port,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req.rawHeaders).flat(),
      agent: this.agent,
    });
    upstream.on("response", (up) => {
      const headers = forwardedHeaders(up.rawHeaders).flat();
      res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);
      up.pipe(res);
      up.on("error", () => res.destroy());
    });
    upstream.on("error", () => {
      // The replica refused or dropped it: the balancer must see what it would have seen
      // without the proxy, a broken connection it retries by its rules (not a 502 it may not retry).
      const socket = res.socket;
      if (socket && !socket.destroyed) socket.resetAndDestroy();
      else res.destroy();
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** An upgrade (WebSocket): the request head re-sent to the replica, then bytes both ways. */
  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    this.counts.upgrades++;
    this.afterLatency(req, () => {
      const upstream = net.connect({ host: this.opts.target.host, port: this.opts.target.port });
      for (const s of [upstream, socket]) {
        this.tunnels.add(s);
        s.once("close", () => this.tunnels.delete(s));
      }
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.once("connect", () => {
        upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
      upstream.on("close", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
    });
  }
}

/** Start a fault proxy listening on `opts.listen`. */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxy(opts);
  await proxy.listen();
  return proxy;
}
