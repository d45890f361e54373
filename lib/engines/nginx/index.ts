import { rm } from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import type { AdminState } from "@/lib/core/rules";
import type {
  ApplyResult,
  BalancerConfig,
  BalancerServer,
  BalancerService,
  CheckResult,
  EngineIncident,
  EngineStats,
  EngineStatus,
  Renderer,
  RunningEngine,
} from "@/lib/engines/types";
import { engineError } from "@/lib/engines/errors";
import { nginxCapabilities } from "@/lib/engines/nginx/capabilities";
import { renderNginx } from "@/lib/engines/nginx/render";
import type { LogTailStats } from "@/lib/engines/nginx/log-tail";
import { listenerAnswers, nginxTest, writeAtomic } from "@/lib/engines/nginx/apply";
import { nginxEnginePaths, workerUserOf, type NginxEngineOptions, type NginxEnginePaths } from "@/lib/engines/nginx/options";
import { NGINX_STOP_STEPS, NginxMaster } from "@/lib/engines/nginx/master";
import { NginxReloader } from "@/lib/engines/nginx/reload";
import { NginxStatsFeed } from "@/lib/engines/nginx/stats-feed";
import { ReloadBatch } from "@/lib/engines/nginx/batch";
import { FileEngine, configFile, modelFile } from "@/lib/engines/lifecycle/file-engine";
import { addServerEdit, patchServerEdit, removeServerEdit, withServers, type ServerEdit } from "@/lib/engines/lifecycle/model-edits";

export { NGINX_NOTES, nginxCapabilities } from "@/lib/engines/nginx/capabilities";
export type { NginxEngineOptions } from "@/lib/engines/nginx/options";
export { ACCESS_LOG_MAX_BYTES } from "@/lib/engines/nginx/stats-feed";

/**
 * The nginx engine adapter (nginx OSS 1.22): nginx's render, check (`nginx -t`) and
 * reload plugged into the shared file-engine lifecycle (lib/engines/lifecycle). Files:
 * options.ts; the master process: master.ts; reload and verify: reload.ts; per-replica
 * figures: stats-feed.ts; batched changes: batch.ts; commands: apply.ts. The master
 * daemonizes, so it keeps serving when the panel stops; a later start() adopts it.
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

const sameKeys = (a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean =>
  a.size === b.size && [...a.keys()].every((k) => b.has(k));

/** Is `serverName` of `serviceName` in `config` and rendered `down` for its admin state (drain, maint)? */
function liveDown(config: BalancerConfig | null, serviceName: string, serverName: string): boolean {
  const server = config?.services.find((s) => s.name === serviceName)?.servers.find((s) => s.name === serverName);
  return server !== undefined && server.adminState !== "ready";
}

/** nginx's renderer for these options (exports), without an adapter; no replica is down for it (that is the running engine's state). */
export function createNginxRenderer(opts: NginxEngineOptions) {
  const paths = nginxEnginePaths(opts);
  const workerUser = workerUserOf(opts, paths.prefix);
  return {
    kind: "nginx" as const,
    capabilities: nginxCapabilities,
    render: (config: BalancerConfig): string => renderNginx(config, { paths, downServers: new Set<string>(), workerUser }),
  } satisfies Renderer;
}

export class NginxEngine implements RunningEngine {
  readonly kind = "nginx" as const;
  readonly capabilities = nginxCapabilities;
  readonly paths: NginxEnginePaths & { backup: string };
  private readonly binary: string;
  private readonly workerUser: string | null;
  private readonly lifecycle: FileEngine;
  private readonly master: NginxMaster;
  private readonly reloader: NginxReloader;
  private readonly feed: NginxStatsFeed;
  private readonly batch: ReloadBatch;

  /** the model the panel wants: fast-path changes land here before the batched reload */
  private desired: BalancerConfig | null = null;
  /** the model behind the live file */
  private applied: BalancerConfig | null = null;
  /** "host:port" -> the prober's reason, for replicas it found failing */
  private probeDown = new Map<string, string>();

  constructor(private readonly opts: NginxEngineOptions) {
    const paths = nginxEnginePaths(opts);
    const file = configFile(paths.config, 0o644); // nginx's workers may run as another user: its files stay readable
    this.paths = { ...paths, backup: file.backup };
    this.binary = opts.binary ?? "nginx";
    this.workerUser = workerUserOf(opts, paths.prefix);
    const timeoutMs = opts.reloadTimeoutMs ?? 10_000;
    this.lifecycle = new FileEngine({ kind: "nginx", mode: opts.mode, file, model: modelFile(paths.model), render: (config) => this.render(config) });
    this.master = new NginxMaster(opts, paths, this.binary, timeoutMs);
    this.reloader = new NginxReloader(opts, paths, this.binary, this.master, timeoutMs);
    this.feed = new NginxStatsFeed({
      accessLog: paths.accessLog,
      errorLog: paths.errorLog,
      accessLogMaxBytes: opts.accessLogMaxBytes,
      reopen: () => this.master.reopenLogs(),
      heldByWriter: (f) => this.master.holds(f),
    });
    this.batch = new ReloadBatch(opts.batchMs ?? 200, () => this.flush());
  }

  render(config: BalancerConfig): string {
    return renderNginx(config, {
      paths: this.paths,
      downServers: new Set(this.probeDown.keys()),
      workerUser: this.workerUser,
    });
  }

  async check(rendered: string): Promise<CheckResult> {
    await this.master.ensureFolders();
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
    return this.lifecycle.exclusive(async () => {
      const result = await this.applyNow(rendered, config);
      if (result.ok) this.desired = config; // a whole config from the panel is the new truth
      return result;
    });
  }

  liveConfig(): Promise<string | null> {
    return this.lifecycle.liveConfig();
  }

  servedConfig(): Promise<BalancerConfig | null> {
    return this.lifecycle.readModel();
  }

  addServer(service: BalancerService, server: BalancerServer): Promise<void> {
    return this.change(service, addServerEdit(server));
  }

  /**
   * A server the live file already renders `down` (drained or in maintenance) gets no new
   * request, so taking it out needs no reload of its own: it leaves the model now and the
   * file with the next reload. A reload costs keep-alive clients requests (the old workers
   * close their idle connections), so a scale-down is one reload (the drain), not two.
   */
  removeServer(service: BalancerService, serverName: string): Promise<void> {
    if (this.desired !== null && liveDown(this.applied, service.name, serverName) && liveDown(this.desired, service.name, serverName)) {
      this.desired = withServers(this.desired, service, removeServerEdit(serverName));
      return Promise.resolve();
    }
    return this.change(service, removeServerEdit(serverName));
  }

  setServerState(service: BalancerService, serverName: string, state: AdminState): Promise<void> {
    return this.change(service, patchServerEdit(serverName, { adminState: state }));
  }

  setWeight(service: BalancerService, serverName: string, weight: number): Promise<void> {
    return this.change(service, patchServerEdit(serverName, { weight }));
  }

  /** nginx OSS cannot change an upstream server at run time: a re-apply (batched reload). */
  setServerAddress(service: BalancerService, serverName: string, host: string, port: number): Promise<void> {
    return this.change(service, patchServerEdit(serverName, { host, port }));
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
    return this.batch.join();
  }

  async stats(): Promise<EngineStats> {
    const servers = await this.feed.stats(this.desired ?? this.applied, this.probeDown);
    return { at: Date.now(), servers };
  }

  start(initial: BalancerConfig): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      await this.master.ensureFolders();
      await this.feed.open();
      if (this.opts.mode === "external") {
        this.desired = this.applied = (await this.lifecycle.readModel()) ?? initial;
        this.lifecycle.found(null);
        return;
      }
      const running = this.master.runningPid();
      if (running !== null) {
        this.desired = this.applied = (await this.lifecycle.readModel()) ?? initial;
        this.lifecycle.found(running);
        await this.feed.resolveNames(this.applied);
        return;
      }
      this.desired = initial;
      await this.launch(this.render(initial), initial);
    });
  }

  stop(): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      this.batch.cancel(new AppError("unavailable", "nginx engine stopped"));
      await this.feed.close();
      if (this.opts.mode === "external") return;
      await this.lifecycle.stopProcess(this.master.runningPid(), NGINX_STOP_STEPS, [this.paths.pid]);
    });
  }

  /**
   * Additive: release what this engine object holds in the panel (the access
   * log reader, the batch timer) and leave nginx running, as when the panel
   * process shuts down. A later engine object adopts the running master.
   */
  async close(): Promise<void> {
    this.batch.cancel(new AppError("unavailable", "nginx engine closed"));
    await this.feed.close();
  }

  /** Workers that died abnormally since the last call (nginx's error log): the master respawned them, status() never saw them. */
  incidents(): Promise<EngineIncident[]> {
    return this.feed.incidents();
  }

  async status(): Promise<EngineStatus> {
    const pid = this.master.runningPid();
    const listen = (this.desired ?? this.applied)?.listen ?? this.opts.listen;
    const running = this.opts.mode === "external" ? await listenerAnswers(listen.host, listen.port, 1000) : pid !== null;
    const statsFeed = this.feed.feed();
    return this.lifecycle.status({ running, version: await this.master.version(), pid, listen, ...(statsFeed ? { statsFeed } : {}) });
  }

  /** Reloads this object asked nginx for (applies, batches, rollbacks), for diagnostics and tests. */
  get reloadCount(): number {
    return this.reloader.count;
  }

  /** Counters of the access log reader, for diagnostics and tests. */
  accessLogStats(): (LogTailStats & { records: number; unrouted: number; unparseable: number; writeFailures: number; workersDied: number }) | null {
    return this.feed.readerStats();
  }

  // ---------------------------------------------------------------- internals

  /** Supervised and down: start a master on the new file. Otherwise apply with rollback (lifecycle/apply.ts) through `nginx -s reload`. */
  private async applyNow(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    if (this.opts.mode === "supervised" && this.master.runningPid() === null) return this.lifecycle.launchNow(() => this.launch(rendered, config));
    return this.lifecycle.applyNow(rendered, {
      check: (text) => this.check(text),
      reload: () => this.reloader.reloadAndVerify(config.listen),
      commit: async () => {
        this.applied = config;
        await this.lifecycle.writeModel(config);
        await this.feed.resolveNames(config);
      },
      reloadPrevious: () => this.reloader.reloadAndVerify(this.applied?.listen ?? this.opts.listen),
      withoutPrevious: "keep",
    });
  }

  /** Check, write and start a new master; wait until its workers run and the listener answers. */
  private async launch(rendered: string, config: BalancerConfig): Promise<void> {
    const checked = await this.check(rendered);
    if (!checked.ok) throw engineError(checked);
    await this.lifecycle.file.write(rendered);
    const pid = await this.master.spawn(config.listen);
    this.lifecycle.started(pid);
    this.applied = config;
    await this.lifecycle.writeModel(config);
    await this.feed.resolveNames(config);
  }

  /** A server change lands in the desired model and reloads with the next batch. */
  private change(service: BalancerService, edit: ServerEdit): Promise<void> {
    if (this.desired === null) return Promise.reject(new AppError("unavailable", "the nginx engine is not started"));
    this.desired = withServers(this.desired, service, edit);
    return this.batch.join();
  }

  /** One reload for every change collected since the batch started. */
  private async flush(): Promise<void> {
    const config = this.desired;
    if (config === null) throw new AppError("unavailable", "the nginx engine is not started");
    if (this.opts.mode === "supervised" && this.master.runningPid() === null) throw new AppError("unavailable", "nginx is not running");
    const rendered = this.render(config);
    if ((await this.liveConfig()) === rendered) return;
    // not this.apply(): changes made while this reload runs stay in `desired` for the next batch
    const result = await this.lifecycle.exclusive(() => this.applyNow(rendered, config));
    if (!result.ok) {
      this.desired = this.applied; // the batch is dropped; its callers get the error
      throw engineError(result, { details: { rolledBack: result.rolledBack } });
    }
  }
}

export function createNginxEngine(opts: NginxEngineOptions): NginxEngine {
  return new NginxEngine(opts);
}
