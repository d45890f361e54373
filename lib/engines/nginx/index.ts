import { lookup } from "node:dns/promises";
import { statSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import type { AdminState } from "@/lib/core/rules";
import type {
  ApplyResult,
  BalancerConfig,
  BalancerServer,
  BalancerService,
  CheckResult,
  EngineFailure,
  EngineIncident,
  EngineStats,
  EngineStatus,
  Renderer,
  RunningEngine,
  ServerHealth,
  ServerStats,
  StatsFeed,
} from "@/lib/engines/types";
import { engineError } from "@/lib/engines/errors";
import { nginxCapabilities } from "@/lib/engines/nginx/capabilities";
import { nginxPaths, renderNginx, serverKey, type NginxPaths } from "@/lib/engines/nginx/render";
import { AccessCounters, parseAccessLine } from "@/lib/engines/nginx/access-log";
import { LogTail, type FileId, type LogTailStats, type ReopenResult } from "@/lib/engines/nginx/log-tail";
import { isAlive } from "@/lib/process/identity";
import { holdsFile } from "@/lib/process/procfs";
import { SerialQueue } from "@/lib/process/serial-queue";
import { readPidFileSync } from "@/lib/process/pid-file";
import { sleep } from "@/lib/process/sleep";
import { waitUntilReady } from "@/lib/process/spawn";
import { stopWithEscalation } from "@/lib/process/stop";
import {
  activeWorkerPids,
  errorText,
  fileSize,
  isNginxMaster,
  listenerAnswers,
  nginxSignal,
  orphanedWorkerPids,
  nginxTest,
  nginxVersion,
  readFrom,
  readOrNull,
  runCommand,
  spawnNginx,
  workerPids,
  writeAtomic,
} from "@/lib/engines/nginx/apply";
import { readModel, writeModel } from "@/lib/engines/files";

export { NGINX_NOTES, nginxCapabilities } from "@/lib/engines/nginx/capabilities";

/**
 * The nginx engine adapter (nginx OSS 1.22).
 *
 * Files under <dataDir>/nginx (the `-p` prefix): nginx.conf (live),
 * nginx.conf.bak (previous, for rollback), nginx.pid, logs/error.log,
 * logs/access.log (one line per request; the panel rotates it to
 * logs/access.log.1 and deletes that once read), logs/startup.log, temp/*
 * (body and proxy buffers), model.json (the BalancerConfig behind the live
 * file). The master daemonizes, so it keeps
 * serving when the panel stops; a later start() adopts it.
 *
 * nginx OSS has no runtime API and no active health checks, so:
 * - every server change re-renders and reloads; changes made within `batchMs`
 *   share one reload;
 * - the panel's prober reports failing replicas through setProbeDown(), and
 *   they are rendered `down`;
 * - per-replica counters come from the access log, one line per request,
 *   which the panel tails (log-tail.ts) and counts (access-log.ts). External
 *   mode needs the prefix folder at the same path for nginx and the panel (a
 *   shared volume): the config names its pid file, logs and temp folders there.
 */

export type NginxEngineOptions = {
  dataDir: string;
  listen: { host: string; port: number };
  /** nginx binary; default "nginx" (from PATH) */
  binary?: string;
  /** supervised: the panel starts and reloads nginx; external: nginx runs elsewhere (a container) and `reloadCommand` reloads it */
  mode: "supervised" | "external";
  /** live config file; default <dataDir>/nginx/nginx.conf. External mode: the file the external nginx reads (shared volume). */
  configPath?: string;
  /** external mode: argv that makes the external nginx reload, e.g. ["docker", "exec", "lb", "nginx", "-s", "reload"] */
  reloadCommand?: string[];
  /** external mode: argv that makes the external nginx reopen its logs (after the panel renamed the access log); default `nginx -s reopen -c CONFIG -p PREFIX` */
  reopenCommand?: string[];
  /** the panel rotates the access log once it is this big; default 32 MiB */
  accessLogMaxBytes?: number;
  /** `user` for the workers when nginx starts as root; default: none (nginx's nobody) when the data folder is world-traversable, else "root" */
  workerUser?: string | null;
  /** how long server changes are collected into one reload; default 200 ms */
  batchMs?: number;
  /** how long a reload or a start may take until new workers answer; default 10 s */
  reloadTimeoutMs?: number;
};

type Waiter = { resolve: () => void; reject: (e: unknown) => void };

/** nginx's error log line for a worker that ended abnormally (the master respawns it): "[alert] 10#10: worker process 12 exited on signal 9" */
const WORKER_DIED = /\[alert\] \d+#\d+: worker process (\d+) exited (on signal \d+(?: \(core dumped\))?|with fatal code \d+)/;

/** Past this size the panel rotates the access log (about a minute at 10k requests/s). */
export const ACCESS_LOG_MAX_BYTES = 32 * 1024 * 1024;

/** Does every existing folder from `dir` up to / let others traverse it (o+x)? */
function worldTraversable(dir: string): boolean {
  let d = path.resolve(dir);
  for (;;) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: the engine creates it 0755
    }
    const up = path.dirname(d);
    if (up === d) return true;
    d = up;
  }
}

function defaultWorkerUser(prefix: string): string | null {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null; // not root: workers run as us anyway
  return worldTraversable(prefix) ? null : "root";
}

const sameKeys = (a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean =>
  a.size === b.size && [...a.keys()].every((k) => b.has(k));

/** nginx's renderer for these options (exports), without an adapter; no replica is down for it (that is the running engine's state). */
export function createNginxRenderer(opts: NginxEngineOptions) {
  const base = nginxPaths(opts.dataDir);
  const paths = { ...base, config: path.resolve(opts.configPath ?? base.config) };
  const workerUser = opts.workerUser !== undefined ? opts.workerUser : defaultWorkerUser(base.prefix);
  return {
    kind: "nginx" as const,
    capabilities: nginxCapabilities,
    render: (config: BalancerConfig): string => renderNginx(config, { paths, downServers: new Set<string>(), workerUser }),
  } satisfies Renderer;
}

export class NginxEngine implements RunningEngine {
  readonly kind = "nginx" as const;
  readonly capabilities = nginxCapabilities;
  readonly paths: NginxPaths & { backup: string; model: string; startupLog: string };
  private readonly binary: string;
  private readonly workerUser: string | null;
  private readonly batchMs: number;
  private readonly reloadTimeoutMs: number;

  /** the model the panel wants: fast-path changes land here before the batched reload */
  private desired: BalancerConfig | null = null;
  /** the model behind the live file */
  private applied: BalancerConfig | null = null;
  /** "host:port" -> the prober's reason, for replicas it found failing */
  private probeDown = new Map<string, string>();
  private readonly healthSince = new Map<string, { status: ServerHealth["status"]; at: number }>();
  /** resolved addresses of servers given by name (nginx logs addresses, not names) */
  private readonly resolved = new Map<string, string>();

  private readonly counters = new AccessCounters();
  private accessLog: LogTail | null = null;
  /** access log lines that were not records (a foreign or damaged line) */
  private unparseable = 0;
  /** nginx's error log, read for the lines saying it could not write the access log (a full disk) */
  private errorLogTail: LogTail | null = null;
  private logWriteFailures = 0;
  /** failures nginx healed by itself (a worker killed and respawned), not yet taken by incidents() */
  private healed: EngineIncident[] = [];

  /** one mutation at a time: applies, reloads and supervision never interleave */
  private readonly queue = new SerialQueue();
  private flushTimer: NodeJS.Timeout | null = null;
  private waiters: Waiter[] = [];

  private reloads = 0;
  private adopted = false;
  private lastError: string | undefined;
  private version: string | null | undefined;

  constructor(private readonly opts: NginxEngineOptions) {
    const base = nginxPaths(opts.dataDir);
    const config = path.resolve(opts.configPath ?? base.config);
    this.paths = {
      ...base,
      config,
      backup: `${config}.bak`,
      model: path.join(base.prefix, "model.json"),
      startupLog: path.join(base.prefix, "logs", "startup.log"),
    };
    this.binary = opts.binary ?? "nginx";
    this.workerUser = opts.workerUser !== undefined ? opts.workerUser : defaultWorkerUser(base.prefix);
    this.batchMs = opts.batchMs ?? 200;
    this.reloadTimeoutMs = opts.reloadTimeoutMs ?? 10_000;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  render(config: BalancerConfig): string {
    return renderNginx(config, {
      paths: this.paths,
      downServers: new Set(this.probeDown.keys()),
      workerUser: this.workerUser,
    });
  }

  async check(rendered: string): Promise<CheckResult> {
    await this.ensureFolders();
    const tmp = path.join(this.paths.prefix, `check-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.conf`);
    await writeAtomic(tmp, rendered);
    try {
      const r = await nginxTest({ binary: this.binary, prefix: this.paths.prefix }, tmp);
      return r.ok ? r : { ...r, error: r.error.split(tmp).join(path.basename(this.paths.config)) };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  apply(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    return this.exclusive(async () => {
      const result = await this.applyNow(rendered, config);
      if (result.ok) this.desired = config; // a whole config from the panel is the new truth
      return result;
    });
  }

  async liveConfig(): Promise<string | null> {
    return readOrNull(this.paths.config);
  }

  addServer(service: BalancerService, server: BalancerServer): Promise<void> {
    return this.change(service, (servers) => [...servers.filter((s) => s.name !== server.name), server].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }

  removeServer(service: BalancerService, serverName: string): Promise<void> {
    return this.change(service, (servers) => servers.filter((s) => s.name !== serverName));
  }

  setServerState(service: BalancerService, serverName: string, state: AdminState): Promise<void> {
    return this.change(service, (servers) => servers.map((s) => (s.name === serverName ? { ...s, adminState: state } : s)));
  }

  setWeight(service: BalancerService, serverName: string, weight: number): Promise<void> {
    return this.change(service, (servers) => servers.map((s) => (s.name === serverName ? { ...s, weight } : s)));
  }

  /**
   * The port's optional probe capability (nginx OSS has no active checks; its
   * descriptor says `panelProbes`): the panel's prober reports the replicas
   * ("host:port", with a reason when it has one) whose health check fails.
   * They are rendered `down`; the config is re-applied (batched) only when the
   * set changes. Also feeds health in stats().
   */
  setProbeDown(down: ReadonlySet<string> | ReadonlyMap<string, string>): Promise<void> {
    const next = new Map<string, string>();
    if (down instanceof Map) for (const [k, why] of down) next.set(k, why);
    else for (const k of down as ReadonlySet<string>) next.set(k, "failing");
    const changed = !sameKeys(this.probeDown, next);
    this.probeDown = next;
    if (!changed || this.desired === null) return Promise.resolve();
    return this.scheduleFlush();
  }

  async stats(): Promise<EngineStats> {
    await Promise.all([this.accessLog?.poll(), this.errorLogTail?.poll()]); // count what nginx wrote until now
    const config = this.desired ?? this.applied;
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
          health: this.healthOf(srv, now),
        });
      }
    }
    return { at: now, servers };
  }

  start(initial: BalancerConfig): Promise<void> {
    return this.exclusive(async () => {
      await this.ensureFolders();
      await this.ensureAccessLog();
      if (this.opts.mode === "external") {
        this.desired = this.applied = (await readModel(this.paths.model)) ?? initial;
        this.adopted = true;
        return;
      }
      if (this.runningMasterPid() !== null) {
        this.desired = this.applied = (await readModel(this.paths.model)) ?? initial;
        this.adopted = true;
        await this.resolveNames(this.applied);
        return;
      }
      this.desired = initial;
      await this.launch(this.render(initial), initial);
    });
  }

  stop(): Promise<void> {
    return this.exclusive(async () => {
      this.cancelBatch(new AppError("unavailable", "nginx engine stopped"));
      await this.closeAccessLog();
      if (this.opts.mode === "external") return;
      const pid = this.runningMasterPid();
      if (pid !== null) {
        // SIGQUIT: graceful (workers finish their requests); then harder.
        await stopWithEscalation(pid, [["SIGQUIT", 8000], ["SIGTERM", 3000], ["SIGKILL", 3000]]);
      }
      await rm(this.paths.pid, { force: true });
      this.adopted = false;
    });
  }

  /**
   * Additive: release what this engine object holds in the panel (the access
   * log reader, the batch timer) and leave nginx running, as when the panel
   * process shuts down. A later engine object adopts the running master.
   */
  async close(): Promise<void> {
    this.cancelBatch(new AppError("unavailable", "nginx engine closed"));
    await this.closeAccessLog();
  }

  /** Workers that died abnormally since the last call (nginx's error log): the master respawned them, status() never saw them. */
  async incidents(): Promise<EngineIncident[]> {
    await this.errorLogTail?.poll();
    return this.healed.splice(0);
  }

  async status(): Promise<EngineStatus> {
    const pid = this.opts.mode === "external" ? null : this.runningMasterPid();
    const listen = (this.desired ?? this.applied)?.listen ?? this.opts.listen;
    const running = this.opts.mode === "external" ? await listenerAnswers(listen.host, listen.port, 1000) : pid !== null;
    return {
      kind: "nginx",
      running,
      version: await this.nginxVersion(),
      mode: this.opts.mode,
      pid,
      listen,
      location: this.paths.config,
      adopted: this.adopted,
      ...(this.accessLog ? { statsFeed: this.statsFeed(this.accessLog.stats()) } : {}),
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  /** Reloads this object asked nginx for (applies, batches, rollbacks), for diagnostics and tests. */
  get reloadCount(): number {
    return this.reloads;
  }

  /** Counters of the access log reader, for diagnostics and tests. */
  accessLogStats(): (LogTailStats & { records: number; unrouted: number; unparseable: number; writeFailures: number }) | null {
    if (!this.accessLog) return null;
    return { ...this.accessLog.stats(), records: this.counters.records, unrouted: this.counters.unrouted, unparseable: this.unparseable, writeFailures: this.logWriteFailures };
  }

  // ---------------------------------------------------------------- internals

  private async applyNow(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    const supervised = this.opts.mode === "supervised";
    if (supervised && this.runningMasterPid() === null) {
      try {
        await this.launch(rendered, config);
        return { ok: true, reloaded: false };
      } catch (e) {
        this.lastError = errorText(e);
        return { ok: false, error: errorText(e), rolledBack: false };
      }
    }
    const checked = await this.check(rendered);
    if (!checked.ok) return { ...checked, rolledBack: false };

    const previous = await readOrNull(this.paths.config);
    if (previous !== null) await writeAtomic(this.paths.backup, previous);
    await writeAtomic(this.paths.config, rendered);

    const result = await this.reloadAndVerify(config.listen);
    if (result.ok) {
      this.applied = config;
      this.lastError = undefined;
      await writeModel(this.paths.model, config);
      await this.resolveNames(config);
      return { ok: true, reloaded: true };
    }

    this.lastError = result.error;
    if (previous === null) return { ...result, rolledBack: false };
    await writeAtomic(this.paths.config, previous);
    const back = await this.reloadAndVerify(this.applied?.listen ?? this.opts.listen);
    const error = back.ok ? result.error : `${result.error}\nrollback reload failed too: ${back.error}`;
    return { ok: false, error, cause: result.cause, rolledBack: true };
  }

  /**
   * Reload and wait until it took: the master is alive, a worker that was not
   * there before runs (nginx starts new workers only when it loaded the file)
   * and every old one is shutting down (no longer accepting), no [emerg] line
   * appeared in the error log, and the listener answers.
   */
  private async reloadAndVerify(listen: { host: string; port: number }): Promise<{ ok: true } | ({ ok: false } & EngineFailure)> {
    const deadline = Date.now() + this.reloadTimeoutMs;
    if (this.opts.mode === "external") {
      const argv = this.opts.reloadCommand ?? [this.binary, "-s", "reload", "-c", this.paths.config, "-p", `${this.paths.prefix}/`];
      const r = await runCommand(argv);
      this.reloads++;
      if (!r.ok) return r;
      while (Date.now() < deadline) {
        await sleep(100);
        if (await listenerAnswers(listen.host, listen.port, 1000)) return { ok: true };
      }
      return { ok: false, error: `nginx did not answer on ${listen.host}:${listen.port} within ${this.reloadTimeoutMs} ms after the reload` };
    }

    const master = this.runningMasterPid();
    if (master === null) return { ok: false, error: "the nginx master is not running" };
    const before = new Set(workerPids(master));
    const logStart = await fileSize(this.paths.errorLog);
    const signalled = await nginxSignal({ binary: this.binary, prefix: this.paths.prefix }, this.paths.config, "reload");
    this.reloads++;
    if (!signalled.ok) return { ...signalled, error: `nginx -s reload: ${signalled.error}` };

    while (Date.now() < deadline) {
      await sleep(50);
      if (!isAlive(master)) return { ok: false, error: `the nginx master exited during the reload: ${await this.errorsSince(logStart)}` };
      const emerg = await this.errorsSince(logStart);
      if (emerg) {
        // nginx retries a failed bind() 5 times, 500 ms apart, logging each: let the
        // failed attempt finish before anything else (a rollback) signals the master.
        await this.errorLogQuiet(700, 5000);
        return { ok: false, error: `nginx could not load the new configuration: ${emerg}` };
      }
      const active = activeWorkerPids(master);
      // The master starts the new workers, then (100 ms later) tells the old ones to
      // stop accepting: until then both generations take new connections.
      if (active.some((p) => !before.has(p)) && !active.some((p) => before.has(p))) {
        while (Date.now() < deadline) {
          if (await listenerAnswers(listen.host, listen.port, 1000)) return { ok: true };
          await sleep(50);
        }
        return { ok: false, error: `nginx reloaded but does not answer on ${listen.host}:${listen.port}` };
      }
    }
    return { ok: false, error: `nginx reload not confirmed within ${this.reloadTimeoutMs} ms (no new worker started): ${(await this.errorsSince(logStart)) || "nothing in the error log"}` };
  }

  /** Wait until the error log has not grown for `quietMs` (at most `maxMs`). */
  private async errorLogQuiet(quietMs: number, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    let size = await fileSize(this.paths.errorLog);
    let since = Date.now();
    while (Date.now() < end && Date.now() - since < quietMs) {
      await sleep(100);
      const now = await fileSize(this.paths.errorLog);
      if (now !== size) {
        size = now;
        since = Date.now();
      }
    }
  }

  /** [emerg] lines nginx wrote to its error log after `offset`, without the timestamp prefix. */
  private async errorsSince(offset: number): Promise<string> {
    const text = await readFrom(this.paths.errorLog, offset);
    return text
      .split("\n")
      .filter((l) => l.includes("[emerg]"))
      .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, ""))
      .join("\n");
  }

  /** Check, write and start a new master; wait until its workers run and the listener answers. */
  private async launch(rendered: string, config: BalancerConfig): Promise<void> {
    const checked = await this.check(rendered);
    if (!checked.ok) throw engineError(checked);
    await writeAtomic(this.paths.config, rendered);
    await rm(this.paths.pid, { force: true });
    await this.endOrphanedWorkers();
    let started;
    try {
      started = await spawnNginx({ binary: this.binary, prefix: this.paths.prefix }, this.paths.config, this.paths.errorLog, this.paths.startupLog);
    } catch (e) {
      throw new AppError("unavailable", `cannot run ${this.binary}: ${errorText(e)}`);
    }
    if (started.code !== 0) throw new AppError("engine_error", `nginx did not start (exit ${started.code}): ${started.output.trim() || "no output"}`);
    await waitUntilReady(
      async () => {
        const pid = this.runningMasterPid();
        return pid !== null && activeWorkerPids(pid).length > 0 && (await listenerAnswers(config.listen.host, config.listen.port, 1000));
      },
      {
        timeoutMs: this.reloadTimeoutMs,
        intervalMs: 50,
        timedOut: async () =>
          new AppError("engine_error", `nginx did not answer on ${config.listen.host}:${config.listen.port} within ${this.reloadTimeoutMs} ms: ${(await this.errorsSince(0)) || "nothing in the error log"}`),
      },
    );
    this.adopted = false;
    this.applied = config;
    this.lastError = undefined;
    await writeModel(this.paths.model, config);
    await this.resolveNames(config);
  }

  /**
   * A master killed with SIGKILL leaves its workers serving and holding the listener, so a
   * new master could not bind it. They are asked to finish (SIGQUIT: each closes the
   * listener at once and ends its requests in flight) and killed if they have not after 2 s.
   */
  private async endOrphanedWorkers(): Promise<void> {
    const files: FileId[] = [];
    for (const file of [this.paths.errorLog, this.paths.accessLog]) {
      const st = await stat(file).catch(() => null);
      if (st) files.push({ dev: st.dev, ino: st.ino });
    }
    const pids = await orphanedWorkerPids(files);
    await Promise.all(pids.map((pid) => stopWithEscalation(pid, [["SIGQUIT", 2000], ["SIGKILL", 1000]])));
  }

  /** The master's pid when the pid file names a live nginx master. */
  private runningMasterPid(): number | null {
    const pid = readPidFileSync(this.paths.pid);
    return pid !== null && isNginxMaster(pid) ? pid : null;
  }

  private async ensureFolders(): Promise<void> {
    for (const d of [this.paths.prefix, path.dirname(this.paths.errorLog), path.dirname(this.paths.clientBodyTemp)]) {
      await mkdir(d, { recursive: true, mode: 0o755 });
    }
  }

  private async ensureAccessLog(): Promise<void> {
    if (this.accessLog) return;
    const tail = new LogTail({
      file: this.paths.accessLog,
      maxBytes: this.opts.accessLogMaxBytes ?? ACCESS_LOG_MAX_BYTES,
      reopen: () => this.reopenLogs(),
      heldByWriter: (file) => this.nginxHolds(file),
      onLine: (line) => {
        const rec = parseAccessLine(line);
        if (rec) this.counters.add(rec);
        else this.unparseable++;
      },
    });
    await tail.start(); // a log it cannot read yet is shown as the feed's error, not a failed start
    this.accessLog = tail;

    // nginx drops a record it cannot write (ENOSPC...) and says so in its error log, at most once a minute
    const failed = `to "${this.paths.accessLog}"`;
    const errors = new LogTail({
      file: this.paths.errorLog,
      maxBytes: null,
      reopen: () => Promise.resolve({ ok: true }),
      onLine: (line) => {
        if (line.includes(failed) && (line.includes(" failed") || line.includes(" was incomplete"))) this.logWriteFailures++;
        const died = WORKER_DIED.exec(line);
        if (died) this.healed.push({ message: `a worker process exited ${died[2]}; ${died[2].startsWith("with fatal") ? "nginx does not start another for a fatal code" : "the nginx master started another"}`, pid: Number(died[1]) });
      },
    });
    await errors.start(1000);
    this.errorLogTail = errors;
  }

  private async closeAccessLog(): Promise<void> {
    const tails = [this.accessLog, this.errorLogTail];
    this.accessLog = this.errorLogTail = null;
    for (const t of tails) await t?.close();
  }

  /** After the access log was renamed: nginx opens it by its name again (USR1 to the master). */
  private async reopenLogs(): Promise<ReopenResult> {
    if (this.opts.mode === "external") {
      return runCommand(this.opts.reopenCommand ?? [this.binary, "-s", "reopen", "-c", this.paths.config, "-p", `${this.paths.prefix}/`]);
    }
    const pid = this.runningMasterPid();
    if (pid === null) return { ok: false, error: "the nginx master is not running" };
    try {
      process.kill(pid, "SIGUSR1");
      return { ok: true };
    } catch (e) {
      return { ok: false, error: `signalling the nginx master (pid ${pid}): ${errorText(e)}` };
    }
  }

  /** Does an nginx process still hold this (rotated-away) file open? External mode cannot see them: null. */
  private async nginxHolds(file: FileId): Promise<boolean | null> {
    const master = this.opts.mode === "external" ? null : this.runningMasterPid();
    if (master === null) return null;
    return holdsFile([master, ...workerPids(master)], file);
  }

  /** What the Balancer page shows about where per-replica counts come from and what could not be counted. */
  private statsFeed(t: LogTailStats): StatsFeed {
    const lost = this.unparseable + t.truncatedLines;
    const parts = [
      this.unparseable > 0 ? `${this.unparseable} unparseable ${this.unparseable === 1 ? "line" : "lines"}` : null,
      t.truncatedLines > 0 ? `${t.truncatedLines} cut off mid-line` : null,
      t.gaps > 0 ? `${t.gaps} ${t.gaps === 1 ? "gap" : "gaps"} of unknown size: the log shrank under the panel, or a rotated log still grew when the panel left it` : null,
      this.logWriteFailures > 0
        ? `nginx could not write the log ${this.logWriteFailures} ${this.logWriteFailures === 1 ? "time" : "times"} (its error log says so at most once a minute; a full disk?): records of that time are lost, number unknown`
        : null,
    ].filter((p): p is string => p !== null);
    return {
      source: "nginx access log",
      file: t.file,
      records: this.counters.records,
      lost,
      gaps: t.gaps + this.logWriteFailures,
      detail: parts.length > 0 ? parts.join("; ") : null,
      lagBytes: t.lagBytes,
      rotations: t.rotations,
      ...(t.error ? { error: t.error } : {}),
    };
  }

  /** Apply a server change to the desired model and reload in the next batch. */
  private change(service: BalancerService, edit: (servers: BalancerServer[]) => BalancerServer[]): Promise<void> {
    const base = this.desired;
    if (base === null) return Promise.reject(new AppError("unavailable", "the nginx engine is not started"));
    const existing = base.services.some((s) => s.name === service.name);
    const services = existing
      ? base.services.map((s) => (s.name === service.name ? { ...s, servers: edit(s.servers) } : s))
      : [...base.services, { ...service, servers: edit(service.servers) }];
    this.desired = { ...base, services };
    return this.scheduleFlush();
  }

  private scheduleFlush(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.flushTimer === null) this.flushTimer = setTimeout(() => void this.flush(), this.batchMs);
    });
  }

  private cancelBatch(reason: unknown): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  /** One reload for every change collected since the timer started. */
  private async flush(): Promise<void> {
    this.flushTimer = null;
    const waiters = this.waiters.splice(0);
    try {
      const config = this.desired;
      if (config === null) throw new AppError("unavailable", "the nginx engine is not started");
      if (this.opts.mode === "supervised" && this.runningMasterPid() === null) throw new AppError("unavailable", "nginx is not running");
      const rendered = this.render(config);
      if ((await this.liveConfig()) === rendered) {
        for (const w of waiters) w.resolve();
        return;
      }
      // not this.apply(): changes made while this reload runs stay in `desired` for the next batch
      const result = await this.exclusive(() => this.applyNow(rendered, config));
      if (!result.ok) {
        this.desired = this.applied; // the batch is dropped; its callers get the error
        throw engineError(result, { details: { rolledBack: result.rolledBack } });
      }
      for (const w of waiters) w.resolve();
    } catch (e) {
      for (const w of waiters) w.reject(e);
    }
  }

  private counterKey(srv: BalancerServer): string {
    if (isIP(srv.host)) return serverKey(srv.host, srv.port);
    const ip = this.resolved.get(srv.host);
    return serverKey(ip ?? srv.host, srv.port);
  }

  /** nginx logs the address it connected to; remember what server names resolve to. */
  private async resolveNames(config: BalancerConfig): Promise<void> {
    const names = new Set(config.services.flatMap((s) => s.servers.map((srv) => srv.host)).filter((h) => !isIP(h)));
    for (const name of names) {
      try {
        this.resolved.set(name, (await lookup(name, { family: 4 })).address);
      } catch {
        this.resolved.delete(name);
      }
    }
  }

  private healthOf(srv: BalancerServer, now: number): ServerHealth {
    const key = serverKey(srv.host, srv.port);
    let status: ServerHealth["status"];
    let reason: string | null = null;
    if (srv.adminState === "maint") status = "maint";
    else if (srv.adminState === "drain") status = "drain";
    else if (this.probeDown.has(key)) {
      status = "down";
      const why = this.probeDown.get(key) ?? "failing";
      reason = why.startsWith("panel probe") ? why : `panel probe: ${why}`;
    } else status = "up"; // the prober's view: it reports failures only
    const prev = this.healthSince.get(key);
    if (prev && prev.status === status) return { status, reason, lastChangeMs: now - prev.at };
    this.healthSince.set(key, { status, at: now });
    return { status, reason, lastChangeMs: prev ? 0 : null };
  }

  private async nginxVersion(): Promise<string | null> {
    if (this.version === undefined) this.version = await nginxVersion(this.binary);
    return this.version;
  }
}

export function createNginxEngine(opts: NginxEngineOptions): NginxEngine {
  return new NginxEngine(opts);
}
