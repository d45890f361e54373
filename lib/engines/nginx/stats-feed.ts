/**
 * Where nginx's per-replica figures come from: its access log (one line per request,
 * tailed and rotated by the panel: log-tail.ts, counted: access-log.ts), its error log
 * (records it could not write, workers it respawned), and the panel's prober (health).
 * What could not be counted is reported, never silent (`StatsFeed`).
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { BalancerConfig, BalancerServer, EngineIncident, ServerHealth, ServerStats, StatsFeed } from "@/lib/engines/types";
import { ACCESS_LOG_BUFFER, ACCESS_LOG_FLUSH_S, serverKey } from "@/lib/engines/nginx/render";
import { AccessCounters, parseAccessLine } from "@/lib/engines/nginx/access-log";
import { LogTail, type FileId, type LogTailStats, type ReopenResult } from "@/lib/engines/nginx/log-tail";

/** nginx's error log line for a worker that ended abnormally (the master respawns it): "[alert] 10#10: worker process 12 exited on signal 9" */
const WORKER_DIED = /\[alert\] \d+#\d+: worker process (\d+) exited (on signal \d+(?: \(core dumped\))?|with fatal code \d+)/;

/** Past this size the panel rotates the access log (about a minute at 10k requests/s). */
export const ACCESS_LOG_MAX_BYTES = 32 * 1024 * 1024;

export type StatsFeedOptions = {
  accessLog: string;
  errorLog: string;
  accessLogMaxBytes?: number;
  /** after the panel renamed the access log: nginx opens it by its name again */
  reopen: () => Promise<ReopenResult>;
  /** does an nginx process still hold this (rotated-away) file open? null: cannot tell */
  heldByWriter: (file: FileId) => Promise<boolean | null>;
};

export class NginxStatsFeed {
  private readonly counters = new AccessCounters();
  private accessLog: LogTail | null = null;
  /** access log lines that were not records (a foreign or damaged line) */
  private unparseable = 0;
  /** nginx's error log, read for the lines saying it could not write the access log (a full disk) */
  private errorLogTail: LogTail | null = null;
  private logWriteFailures = 0;
  /** failures nginx healed by itself (a worker killed and respawned), not yet taken by incidents() */
  private healed: EngineIncident[] = [];
  /** workers that ended abnormally: each lost the records it held in its access log buffer (ACCESS_LOG_BUFFER) */
  private workersDied = 0;
  private readonly healthSince = new Map<string, { status: ServerHealth["status"]; at: number }>();
  /** resolved addresses of servers given by name (nginx logs addresses, not names) */
  private readonly resolved = new Map<string, string>();

  constructor(private readonly opts: StatsFeedOptions) {}

  /** Start reading both logs (from their ends), once. */
  async open(): Promise<void> {
    if (this.accessLog) return;
    const tail = new LogTail({
      file: this.opts.accessLog,
      maxBytes: this.opts.accessLogMaxBytes ?? ACCESS_LOG_MAX_BYTES,
      reopen: this.opts.reopen,
      heldByWriter: this.opts.heldByWriter,
      onLine: (line) => {
        const rec = parseAccessLine(line);
        if (rec) this.counters.add(rec);
        else this.unparseable++;
      },
    });
    await tail.start(); // a log it cannot read yet is shown as the feed's error, not a failed start
    this.accessLog = tail;

    // nginx drops a record it cannot write (ENOSPC...) and says so in its error log, at most once a minute
    const failed = `to "${this.opts.accessLog}"`;
    const errors = new LogTail({
      file: this.opts.errorLog,
      maxBytes: null,
      reopen: () => Promise.resolve({ ok: true }),
      onLine: (line) => {
        if (line.includes(failed) && (line.includes(" failed") || line.includes(" was incomplete"))) this.logWriteFailures++;
        const died = WORKER_DIED.exec(line);
        if (died) this.workersDied++;
        if (died) this.healed.push({ message: `a worker process exited ${died[2]}; ${died[2].startsWith("with fatal") ? "nginx does not start another for a fatal code" : "the nginx master started another"}`, pid: Number(died[1]) });
      },
    });
    await errors.start(1000);
    this.errorLogTail = errors;
  }

  async close(): Promise<void> {
    const tails = [this.accessLog, this.errorLogTail];
    this.accessLog = this.errorLogTail = null;
    for (const t of tails) await t?.close();
  }

  /** Workers that died abnormally since the last call (nginx's error log). */
  async incidents(): Promise<EngineIncident[]> {
    await this.errorLogTail?.poll();
    return this.healed.splice(0);
  }

  /** Per-server counts of `config`'s servers from what nginx logged until now; health from the prober's reports (`probeDown`: "host:port" -> reason). */
  async stats(config: BalancerConfig | null, probeDown: ReadonlyMap<string, string>): Promise<ServerStats[]> {
    await Promise.all([this.accessLog?.poll(), this.errorLogTail?.poll()]); // count what nginx wrote until now
    const servers: ServerStats[] = [];
    const now = Date.now();
    for (const svc of config?.services ?? []) {
      for (const srv of svc.servers) {
        const c = this.counters.get(this.counterKey(srv));
        servers.push({
          service: svc.name,
          server: srv.name,
          totalRequests: c.totalRequests,
          activeConnections: 0, // nginx OSS does not report per-server connections
          responses: c.responses,
          connectionErrors: c.connectionErrors,
          retries: c.retries,
          redispatches: c.redispatches,
          latencyBuckets: c.latencyBuckets,
          ...(c.avgResponseMs !== null ? { avgResponseMs: Math.round(c.avgResponseMs * 10) / 10 } : {}),
          // from the access log's $upstream_bytes_sent/_received; absent until a record carries them (an older config's "sy1")
          ...(c.bytesIn !== null || this.counters.bytesCounted ? { bytesIn: c.bytesIn ?? 0, bytesOut: c.bytesOut ?? 0 } : {}),
          health: this.healthOf(srv, probeDown, now),
        });
      }
    }
    return servers;
  }

  /** What the Balancer page shows about where per-replica counts come from and what could not be counted; null before open(). */
  feed(): StatsFeed | null {
    if (!this.accessLog) return null;
    const t = this.accessLog.stats();
    const lost = this.unparseable + t.truncatedLines;
    const parts = [
      this.unparseable > 0 ? `${this.unparseable} unparseable ${this.unparseable === 1 ? "line" : "lines"}` : null,
      t.truncatedLines > 0 ? `${t.truncatedLines} cut off mid-line` : null,
      t.gaps > 0 ? `${t.gaps} ${t.gaps === 1 ? "gap" : "gaps"} of unknown size: the log shrank under the panel, or a rotated log still grew when the panel left it` : null,
      this.logWriteFailures > 0
        ? `nginx could not write the log ${this.logWriteFailures} ${this.logWriteFailures === 1 ? "time" : "times"} (its error log says so at most once a minute; a full disk?): records of that time are lost, number unknown`
        : null,
      this.workersDied > 0
        ? `${this.workersDied} nginx ${this.workersDied === 1 ? "worker" : "workers"} ended abnormally (a signal, a crash): the records ${this.workersDied === 1 ? "it" : "each"} held in its log buffer (at most ${ACCESS_LOG_BUFFER}, up to ${ACCESS_LOG_FLUSH_S} s of its requests) are lost, number unknown`
        : null,
    ].filter((p): p is string => p !== null);
    return {
      source: "nginx access log",
      file: t.file,
      records: this.counters.records,
      lost,
      gaps: t.gaps + this.logWriteFailures + this.workersDied,
      detail: parts.length > 0 ? parts.join("; ") : null,
      lagBytes: t.lagBytes,
      rotations: t.rotations,
      ...(t.error ? { error: t.error } : {}),
    };
  }

  /** Counters of the access log reader, for diagnostics and tests. */
  readerStats(): (LogTailStats & { records: number; unrouted: number; unparseable: number; writeFailures: number; workersDied: number }) | null {
    if (!this.accessLog) return null;
    return { ...this.accessLog.stats(), records: this.counters.records, unrouted: this.counters.unrouted, unparseable: this.unparseable, writeFailures: this.logWriteFailures, workersDied: this.workersDied };
  }

  /** nginx logs the address it connected to; remember what server names resolve to. */
  async resolveNames(config: BalancerConfig): Promise<void> {
    const names = new Set(config.services.flatMap((s) => s.servers.map((srv) => srv.host)).filter((h) => !isIP(h)));
    for (const name of names) {
      try {
        this.resolved.set(name, (await lookup(name, { family: 4 })).address);
      } catch {
        this.resolved.delete(name);
      }
    }
  }

  private counterKey(srv: BalancerServer): string {
    if (isIP(srv.host)) return serverKey(srv.host, srv.port);
    const ip = this.resolved.get(srv.host);
    return serverKey(ip ?? srv.host, srv.port);
  }

  private healthOf(srv: BalancerServer, probeDown: ReadonlyMap<string, string>, now: number): ServerHealth {
    const key = serverKey(srv.host, srv.port);
    let status: ServerHealth["status"];
    let reason: string | null = null;
    if (srv.adminState === "maint") status = "maint";
    else if (srv.adminState === "drain") status = "drain";
    else if (probeDown.has(key)) {
      status = "down";
      const why = probeDown.get(key) ?? "failing";
      reason = why.startsWith("panel probe") ? why : `panel probe: ${why}`;
    } else status = "up"; // the prober's view: it reports failures only
    const prev = this.healthSince.get(key);
    if (prev && prev.status === status) return { status, reason, lastChangeMs: now - prev.at };
    this.healthSince.set(key, { status, at: now });
    return { status, reason, lastChangeMs: prev ? 0 : null };
  }
}
