import dgram from "node:dgram";
import { emptyLatencyBuckets, latencyBucketKey } from "@/lib/core/rates";
import type { ServerStats, StatsFeed } from "@/lib/engines/types";
import { serviceNameOfBackend } from "@/lib/engines/haproxy/render";
import { parseHaproxyLogLine, SequenceGaps } from "@/lib/engines/haproxy/log-format";

/**
 * The panel's end of HAProxy's per-request log: a UDP socket on a loopback port this
 * panel owns (lib/engines/haproxy/log-port.ts), one datagram per request. It keeps, per
 * server, the latency buckets nginx and the builtin proxy report (so p50/p95/p99 come out
 * the same way on every engine), and counts what it could not use: numbers that never
 * arrived (lost datagrams), datagrams that were not ours. Counters start when the panel
 * starts listening, like nginx's log reader.
 *
 * One socket per port in a process (several engine objects for one data folder share it).
 */

/** 4 MiB asked: the kernel grants at most twice net.core.rmem_max (about 416 KiB on a default Debian). */
const RECEIVE_BUFFER = 4 * 1024 * 1024;

export type LogReceiverOptions = { host: string; port: number };

export class HaproxyLogReceiver {
  private socket: dgram.Socket | null = null;
  private starting: Promise<void> | null = null;
  private readonly buckets = new Map<string, Record<string, number>>();
  private readonly sequence = new SequenceGaps();
  private lastSettle = 0;
  records = 0;
  /** datagrams that were not request records (HAProxy's start-up notices, another sender, a cut-off line) */
  foreign = 0;
  /** datagrams from an address outside loopback, dropped unread */
  offLoopback = 0;
  error: string | undefined;
  users = 0;

  constructor(readonly opts: LogReceiverOptions) {}

  get address(): string {
    return `udp://${this.opts.host}:${this.opts.port}`;
  }

  /** Listen (idempotent). A failure (the port is taken) is kept in `error` and shown, never thrown: traffic does not depend on it. */
  start(): Promise<void> {
    if (this.socket) return Promise.resolve();
    if (this.starting) return this.starting;
    this.starting = new Promise<void>((resolve) => {
      const socket = dgram.createSocket({ type: "udp4", recvBufferSize: RECEIVE_BUFFER });
      const fail = (e: Error) => {
        this.error = `cannot listen for HAProxy's request log on ${this.address}: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
        socket.close();
        this.starting = null;
        resolve();
      };
      socket.once("error", fail);
      socket.on("message", (msg, from) => this.receive(msg, from.address, Date.now()));
      socket.bind({ address: this.opts.host, port: this.opts.port, exclusive: true }, () => {
        socket.off("error", fail);
        socket.on("error", (e) => (this.error = `HAProxy request log ${this.address}: ${e.message}`));
        try {
          socket.setRecvBufferSize(RECEIVE_BUFFER);
        } catch {
          // granted what the kernel allows (recvBufferSize above)
        }
        socket.unref(); // the panel's exit never waits for it
        this.socket = socket;
        this.error = undefined;
        this.starting = null;
        resolve();
      });
    });
    return this.starting;
  }

  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  get listening(): boolean {
    return this.socket !== null;
  }

  /** One datagram: only from loopback (HAProxy sends from 127.0.0.1). */
  private receive(msg: Buffer, from: string, now: number): void {
    if (!from.startsWith("127.")) {
      this.offLoopback++;
      return;
    }
    this.receiveText(msg.toString("utf8"), now);
  }

  receiveText(text: string, now = Date.now()): void {
    const rec = parseHaproxyLogLine(text);
    if (!rec) {
      this.foreign++;
      return;
    }
    this.records++;
    if (rec.seq !== null) this.sequence.add(rec.pid, rec.seq, now);
    // settle as records come too, not only when someone asks for the feed: what is held stays bounded
    if (now - this.lastSettle >= 1000) {
      this.lastSettle = now;
      this.sequence.settle(now);
    }
    const service = serviceNameOfBackend(rec.backend);
    if (service === null || rec.server === null || rec.responseMs === null) return;
    const key = `${service}/${rec.server}`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = emptyLatencyBuckets()));
    b[latencyBucketKey(rec.responseMs)]++;
  }

  /** A copy of one server's latency buckets since the panel started listening (all zero when none yet). */
  latencyBuckets(service: string, server: string): Record<string, number> {
    const b = this.buckets.get(`${service}/${server}`);
    return b ? { ...b } : emptyLatencyBuckets();
  }

  /** Request numbers not judged yet (lost or arrived): see SequenceGaps.unsettled. */
  unsettled(now = Date.now()): number {
    this.sequence.settle(now);
    return this.sequence.unsettled();
  }

  /** What the panel counted and lost, for status().statsFeed. */
  feed(now = Date.now()): StatsFeed {
    this.sequence.settle(now);
    const s = this.sequence;
    const parts: string[] = [];
    if (s.lost > 0) parts.push(`${s.lost} request numbers never arrived`);
    if (s.late > 0) parts.push(`${s.late} arrived late and were counted`);
    if (s.gaps > 0) parts.push(`${s.gaps} jumps in the numbering of unknown size`);
    if (this.foreign > 0) parts.push(`${this.foreign} datagrams were not request records (HAProxy's own notices such as "Proxy fe_main started", or another sender)`);
    if (this.offLoopback > 0) parts.push(`${this.offLoopback} datagrams from outside loopback dropped`);
    return {
      source: "HAProxy request log (UDP datagrams)",
      file: this.address,
      records: this.records,
      lost: s.lost,
      gaps: s.gaps,
      detail: parts.length ? parts.join("; ") : null,
      lagBytes: 0,
      rotations: 0,
      ...(this.error ? { error: this.error } : !this.listening ? { error: `not listening on ${this.address}` } : {}),
    };
  }
}

const receivers = new Map<string, HaproxyLogReceiver>();

/** The process's receiver for this address (shared, counted: the last release closes it). */
export function acquireLogReceiver(opts: LogReceiverOptions): HaproxyLogReceiver {
  const key = `${opts.host}:${opts.port}`;
  let r = receivers.get(key);
  if (!r) receivers.set(key, (r = new HaproxyLogReceiver(opts)));
  r.users++;
  return r;
}

export async function releaseLogReceiver(r: HaproxyLogReceiver): Promise<void> {
  r.users = Math.max(0, r.users - 1);
  if (r.users > 0) return;
  receivers.delete(`${r.opts.host}:${r.opts.port}`);
  await r.stop();
}

/** `show stat`'s servers with the latency buckets of the request log (none while the receiver does not listen: no made-up zeros). */
export function withRequestLog(servers: ServerStats[], receiver: HaproxyLogReceiver | null): ServerStats[] {
  if (!receiver?.listening) return servers;
  return servers.map((s) => ({ ...s, latencyBuckets: receiver.latencyBuckets(s.service, s.server) }));
}
