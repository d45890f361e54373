import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { copyFile, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { AppError, isAppError } from "@/lib/core/errors";
import type { AdminState } from "@/lib/core/rules";
import type {
  ApplyResult,
  BalancerConfig,
  BalancerServer,
  BalancerService,
  CheckResult,
  EngineStats,
  EngineStatus,
  Renderer,
  RunningEngine,
} from "@/lib/engines/types";
import { haproxyCapabilities } from "@/lib/engines/haproxy/capabilities";
import { engineError } from "@/lib/engines/errors";
import { backendName, redactHaproxyConfig, renderHaproxy, serverAddress, serverKeywords, type HaproxyRenderOptions } from "@/lib/engines/haproxy/render";
import { HaproxyMasterApi, HaproxyRuntimeApi, filterServersState, type StatRow } from "@/lib/engines/haproxy/runtime-api";
import { serverStatsOf } from "@/lib/engines/haproxy/stats";
import { readModel, readOrNull, writeAtomic, writeModel } from "@/lib/engines/files";
import { exec, isExecError } from "@/lib/process/exec";
import { isAlive } from "@/lib/process/identity";
import { readPidFile } from "@/lib/process/pid-file";
import { readCmdlineSync } from "@/lib/process/procfs";
import { sleep } from "@/lib/process/sleep";
import { SerialQueue } from "@/lib/process/serial-queue";
import { spawnDetached, waitUntilReady } from "@/lib/process/spawn";
import { stopWithEscalation } from "@/lib/process/stop";
import { cookieSecret } from "@/lib/cookie-secret";

/**
 * The HAProxy engine adapter (HAProxy 2.6, master-worker).
 *
 * Files under <dataDir>/haproxy/: haproxy.cfg (live), haproxy.cfg.bak (previous, for
 * rollback), haproxy.pid (master), master.sock (master CLI), admin.sock (runtime API),
 * server-state (written before each reload), model.json (the BalancerConfig behind the
 * live file), haproxy.log (master output). The master runs detached, so it keeps
 * serving when the panel stops; a later start() adopts it.
 */

export type HaproxyEngineOptions = {
  dataDir: string;
  listen: { host: string; port: number };
  /** haproxy binary; default "haproxy" (from PATH) */
  binary?: string;
  mode: "supervised" | "external";
  configPath?: string;
  masterSocket?: string;
  runtimeSocket?: string;
  stateFile?: string;
  /** mixed into every backend's dynamic-cookie-key; default the data folder's secret (lib/cookie-secret.ts) */
  cookieSecret?: string;
  /** global maxconn; default from the fd hard limit, at most 4096 */
  maxconn?: number;
  /** how long a reload may take until the new worker answers; default 15 s */
  reloadTimeoutMs?: number;
  /** how long start() waits for a new master to answer; default 10 s */
  startTimeoutMs?: number;
};

export { haproxyCapabilities } from "@/lib/engines/haproxy/capabilities";

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

/** maxconn the fd hard limit allows: HAProxy needs about two fds a connection plus listeners and checks. */
function maxconnForFdLimit(): number {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(limits);
    if (m && m[1] !== "unlimited") return Math.max(100, Math.min(4096, Math.floor((Number(m[1]) - 500) / 2)));
  } catch {
    // not Linux: keep the default
  }
  return 4096;
}


/** Is `pid` a haproxy started with our config file? (A recycled pid must never be signalled.) */
function isOurHaproxy(pid: number, configPath: string): boolean {
  const cmdline = readCmdlineSync(pid);
  if (cmdline === null) return true; // no /proc: trust the pid file plus the master socket
  const argv = cmdline.split("\0");
  return path.basename(argv[0]).includes("haproxy") && argv.includes(configPath);
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

type HaproxyPaths = {
  base: string;
  config: string;
  backup: string;
  masterSocket: string;
  runtimeSocket: string;
  stateFile: string;
  pidFile: string;
  logFile: string;
  modelFile: string;
};

function haproxyPaths(opts: HaproxyEngineOptions): HaproxyPaths {
  const base = path.resolve(opts.dataDir, "haproxy");
  const config = path.resolve(opts.configPath ?? path.join(base, "haproxy.cfg"));
  return {
    base,
    config,
    backup: `${config}.bak`,
    masterSocket: path.resolve(opts.masterSocket ?? path.join(base, "master.sock")),
    runtimeSocket: path.resolve(opts.runtimeSocket ?? path.join(base, "admin.sock")),
    stateFile: path.resolve(opts.stateFile ?? path.join(base, "server-state")),
    pidFile: path.join(base, "haproxy.pid"),
    logFile: path.join(base, "haproxy.log"),
    modelFile: path.join(base, "model.json"),
  };
}

function renderOptionsOf(opts: HaproxyEngineOptions, paths: HaproxyPaths): HaproxyRenderOptions {
  return {
    runtimeSocket: paths.runtimeSocket,
    stateFile: paths.stateFile,
    maxconn: opts.maxconn ?? maxconnForFdLimit(),
    cookieSecret: opts.cookieSecret ?? cookieSecret(opts.dataDir),
  };
}

/** HAProxy's renderer for these options (exports), without an adapter: the same text the engine would write. */
export function createHaproxyRenderer(opts: HaproxyEngineOptions) {
  const renderOptions = renderOptionsOf(opts, haproxyPaths(opts));
  return {
    kind: "haproxy" as const,
    capabilities: haproxyCapabilities,
    render: (config: BalancerConfig): string => renderHaproxy(config, renderOptions),
    redact: redactHaproxyConfig,
  } satisfies Renderer;
}

export class HaproxyEngine implements RunningEngine {
  readonly kind = "haproxy" as const;
  readonly capabilities = haproxyCapabilities;
  readonly paths: HaproxyPaths;
  readonly runtime: HaproxyRuntimeApi;
  readonly master: HaproxyMasterApi;
  private readonly binary: string;
  private readonly renderOptions: HaproxyRenderOptions;
  private adopted = false;
  /** master pid this object spawned (not adopted) */
  private spawnedPid: number | null = null;
  private lastError: string | undefined;
  private version: string | null | undefined;
  /** one mutation at a time: applies, fast paths and supervision never interleave */
  private readonly queue = new SerialQueue();

  constructor(private readonly opts: HaproxyEngineOptions) {
    this.paths = haproxyPaths(opts);
    for (const sock of [this.paths.masterSocket, this.paths.runtimeSocket]) {
      if (Buffer.byteLength(sock) > MAX_SOCKET_PATH) {
        throw new AppError("bad_request", `haproxy socket path is longer than ${MAX_SOCKET_PATH} bytes (a unix socket limit): ${sock}; use a shorter data folder`);
      }
    }
    this.binary = opts.binary ?? "haproxy";
    this.renderOptions = renderOptionsOf(opts, this.paths);
    this.runtime = new HaproxyRuntimeApi(this.paths.runtimeSocket);
    this.master = new HaproxyMasterApi(this.paths.masterSocket);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  render(config: BalancerConfig): string {
    return renderHaproxy(config, this.renderOptions);
  }

  async check(rendered: string): Promise<CheckResult> {
    await mkdir(this.paths.base, { recursive: true });
    const tmp = path.join(this.paths.base, `check-${randomBytes(6).toString("hex")}.cfg`);
    await writeFile(tmp, rendered, { mode: 0o600 });
    try {
      await exec([this.binary, "-c", "-f", tmp], { timeoutMs: 20_000 });
      return { ok: true };
    } catch (e) {
      if (!isExecError(e)) throw e;
      const err = e;
      if (err.errno === "ENOENT") return { ok: false, error: `cannot run ${this.binary}: not found`, cause: err };
      const output = `${err.stderr}\n${err.stdout}`
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.includes("[NOTICE]") && !/Can't open (global )?server state file/.test(l))
        .join("\n")
        .split(tmp)
        .join(path.basename(this.paths.config));
      return { ok: false, error: output.trim() || err.message, cause: err };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  apply(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    return this.exclusive(() => this.applyNow(rendered, config));
  }

  /**
   * check -> save server state -> keep a backup -> atomic rename -> master reload ->
   * verify (new worker answers, exact servers) -> sync weights/states. Any failure
   * after the rename restores the backup and reloads again.
   */
  private async applyNow(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    const hadPrevious = (await readOrNull(this.paths.config)) !== null;
    if (!(await this.isRunning())) {
      if (this.opts.mode === "external") return { ok: false, error: "haproxy is not running (external mode: the panel does not start it)", rolledBack: false };
      if (hadPrevious) await copyFile(this.paths.config, this.paths.backup);
      try {
        await this.launch(rendered, config);
        return { ok: true, reloaded: false };
      } catch (e) {
        if (hadPrevious) await this.restoreBackup();
        return { ok: false, error: errorText(e), rolledBack: false };
      }
    }
    const checked = await this.check(rendered);
    if (!checked.ok) return { ...checked, rolledBack: false };

    await this.saveServerState(config);
    if (hadPrevious) await copyFile(this.paths.config, this.paths.backup);
    await writeAtomic(this.paths.config, rendered);

    const result = await this.reloadAndVerify(config);
    if (result.ok) {
      await this.syncRuntimeState(config);
      await writeModel(this.paths.modelFile, config);
      this.lastError = undefined;
      return { ok: true, reloaded: true };
    }

    this.lastError = result.error;
    if (!hadPrevious) return { ok: false, error: result.error, rolledBack: false };
    const previous = await readModel(this.paths.modelFile);
    await this.restoreBackup();
    if (previous) await this.saveServerState(previous);
    const back = await this.reloadAndVerify(previous);
    if (back.ok && previous) await this.syncRuntimeState(previous);
    const error = back.ok ? result.error : `${result.error}\nrollback reload failed too: ${back.error}`;
    return { ok: false, error, rolledBack: true };
  }

  private async restoreBackup(): Promise<void> {
    await copyFile(this.paths.backup, `${this.paths.config}.restore`);
    await rename(`${this.paths.config}.restore`, this.paths.config);
  }

  async liveConfig(): Promise<string | null> {
    return readOrNull(this.paths.config);
  }

  /** The real dynamic-cookie-key stays in the file HAProxy reads; everything shown gets the placeholder. */
  redact(text: string): string {
    return redactHaproxyConfig(text);
  }

  addServer(service: BalancerService, server: BalancerServer): Promise<void> {
    return this.exclusive(async () => {
      const be = backendName(service.name);
      const withServer = (servers: BalancerServer[]) => [...servers.filter((s) => s.name !== server.name), server];
      try {
        await this.runtime.addServer(be, server.name, serverAddress(server), serverKeywords(service.rules, server, { forConfigFile: false }), server.adminState);
      } catch (e) {
        if (isAppError(e) && e.code === "not_found") {
          // A service the running config does not have yet: only a reload can add its backend.
          const model = await readModel(this.paths.modelFile);
          if (!model) throw e;
          const next = withService(model, service, withServer);
          const result = await this.applyNow(this.render(next), next);
          if (!result.ok) throw engineError(result);
          return;
        }
        if (!(isAppError(e) && /already exists/i.test(e.message))) throw e;
        const row = (await this.runtime.showStat()).find((r) => r.pxname === be && r.svname === server.name);
        if (row?.addr !== serverAddress(server)) throw new AppError("conflict", `server ${server.name} already exists in ${be} with address ${row?.addr ?? "?"}`);
        await this.runtime.setWeight(be, server.name, server.weight);
        await this.runtime.setState(be, server.name, server.adminState);
      }
      if (service.rules.sticky.mode === "cookie") await this.runtime.enableDynamicCookie(be);
      await this.updateModel(service, withServer);
    });
  }

  removeServer(service: BalancerService, serverName: string): Promise<void> {
    return this.exclusive(async () => {
      const timeoutMs = Math.max(1000, Math.min(service.rules.drainTimeoutMs, 60_000));
      await this.runtime.delServer(backendName(service.name), serverName, { timeoutMs });
      await this.updateModel(service, (servers) => servers.filter((s) => s.name !== serverName));
    });
  }

  setServerState(service: BalancerService, serverName: string, state: AdminState): Promise<void> {
    return this.exclusive(async () => {
      await this.runtime.setState(backendName(service.name), serverName, state);
      await this.updateModel(service, (servers) => servers.map((s) => (s.name === serverName ? { ...s, adminState: state } : s)));
    });
  }

  setWeight(service: BalancerService, serverName: string, weight: number): Promise<void> {
    return this.exclusive(async () => {
      await this.runtime.setWeight(backendName(service.name), serverName, weight);
      await this.updateModel(service, (servers) => servers.map((s) => (s.name === serverName ? { ...s, weight } : s)));
    });
  }

  async stats(): Promise<EngineStats> {
    const rows = await this.runtime.showStat();
    return { at: Date.now(), servers: serverStatsOf(rows) };
  }

  start(initial: BalancerConfig): Promise<void> {
    return this.exclusive(async () => {
      await mkdir(this.paths.base, { recursive: true });
      if (this.opts.mode === "external") {
        try {
          await this.master.showProc();
        } catch (e) {
          throw new AppError("unavailable", `external haproxy does not answer on its master socket ${this.paths.masterSocket}: ${errorText(e)}`);
        }
        this.adopted = true;
        return;
      }
      const running = await this.runningMasterPid();
      if (running !== null) {
        this.adopted = running !== this.spawnedPid;
        return;
      }
      await this.launch(this.render(initial), initial);
    });
  }

  stop(): Promise<void> {
    return this.exclusive(async () => {
      if (this.opts.mode === "external") return;
      const pid = await this.pidFromFile();
      if (pid === null || !isAlive(pid) || !isOurHaproxy(pid, this.paths.config)) return;
      // SIGUSR1: soft stop (workers finish their connections); then harder.
      await stopWithEscalation(pid, [["SIGUSR1", 5000], ["SIGTERM", 3000], ["SIGKILL", 3000]]);
      await rm(this.paths.pidFile, { force: true });
      this.adopted = false;
    });
  }

  async status(): Promise<EngineStatus> {
    const pid = this.opts.mode === "external" ? await this.externalMasterPid() : await this.runningMasterPid();
    return {
      kind: "haproxy",
      running: pid !== null,
      version: await this.haproxyVersion(),
      mode: this.opts.mode,
      pid,
      listen: this.opts.listen,
      location: this.paths.config,
      adopted: this.adopted,
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  // ---------------------------------------------------------------- internals

  private async haproxyVersion(): Promise<string | null> {
    if (this.version !== undefined) return this.version;
    try {
      const { stdout } = await exec([this.binary, "-v"], { timeoutMs: 5000 });
      this.version = /version (\S+)/i.exec(stdout)?.[1] ?? null;
    } catch {
      this.version = null;
    }
    return this.version;
  }

  private pidFromFile(): Promise<number | null> {
    return readPidFile(this.paths.pidFile);
  }

  /** The master's pid when the pid file names a live haproxy whose master socket answers with that pid. */
  private async runningMasterPid(): Promise<number | null> {
    const pid = await this.pidFromFile();
    if (pid === null || !isAlive(pid) || !isOurHaproxy(pid, this.paths.config)) return null;
    try {
      const proc = await this.master.showProc();
      return proc.master.pid === pid ? pid : null;
    } catch {
      return null;
    }
  }

  private async externalMasterPid(): Promise<number | null> {
    try {
      return (await this.master.showProc()).master.pid;
    } catch {
      return null;
    }
  }

  private async isRunning(): Promise<boolean> {
    return (this.opts.mode === "external" ? await this.externalMasterPid() : await this.runningMasterPid()) !== null;
  }

  /** Check, write and spawn a new detached master; wait until its worker answers. */
  private async launch(rendered: string, config: BalancerConfig): Promise<void> {
    await mkdir(this.paths.base, { recursive: true });
    const checked = await this.check(rendered);
    if (!checked.ok) throw engineError(checked);
    await writeAtomic(this.paths.config, rendered);
    await this.saveServerState(config, "file"); // an old state file must not bring back old addresses
    await rm(this.paths.pidFile, { force: true });
    const logStart = await stat(this.paths.logFile).then((s) => s.size, () => 0);
    const master = spawnDetached(this.binary, ["-W", "-S", `${this.paths.masterSocket},mode,600`, "-f", this.paths.config, "-p", this.paths.pidFile], { logFile: this.paths.logFile });
    const startTimeoutMs = this.opts.startTimeoutMs ?? 10_000;
    await waitUntilReady(
      async () => {
        if ((await this.pidFromFile()) === null) return false;
        try {
          const proc = await this.master.showProc();
          const info = await this.runtime.showInfo();
          return proc.workers.some((w) => String(w.pid) === info.Pid);
        } catch {
          return false; // not up yet
        }
      },
      {
        timeoutMs: startTimeoutMs,
        intervalMs: 50,
        failed: async () => {
          const exit = master.exit();
          if (exit === null) return null;
          const exited = "error" in exit ? `cannot run ${this.binary}: ${exit.error.message}` : `haproxy exited (code ${exit.code}, signal ${exit.signal})`;
          return new AppError("engine_error", `${exited}: ${await this.logSince(logStart)}`);
        },
        timedOut: async () => {
          master.child.kill("SIGTERM"); // do not leave a half-started master behind
          return new AppError("engine_error", `haproxy did not answer within ${startTimeoutMs} ms: ${await this.logSince(logStart)}`);
        },
      },
    );
    this.adopted = false;
    this.spawnedPid = await this.pidFromFile();
    await this.syncRuntimeState(config);
    await writeModel(this.paths.modelFile, config);
  }

  /** [ALERT]/[WARNING] lines the master wrote since `offset` (supervised mode only). */
  private async logSince(offset: number): Promise<string> {
    const text = (await readOrNull(this.paths.logFile)) ?? "";
    const lines = text.slice(offset).split("\n");
    const alerts = lines.filter((l) => l.includes("[ALERT]"));
    const warnings = lines.filter((l) => l.includes("[WARNING]") && !/Can't open (global )?server state file|(Paused|Resumed) (frontend|proxy)/.test(l));
    return (alerts.length > 0 ? alerts : warnings).join("\n") || "(no error in the haproxy log)";
  }

  /**
   * Reload through the master, then wait until a new worker (reload count 0) answers
   * on the runtime socket and lists exactly the expected servers; a grown
   * "failed" count means the master could not load the file.
   */
  private async reloadAndVerify(config: BalancerConfig | null): Promise<{ ok: true } | { ok: false; error: string }> {
    const logStart = await stat(this.paths.logFile).then((s) => s.size, () => 0);
    let before;
    try {
      before = await this.master.showProc();
    } catch (e) {
      return { ok: false, error: `haproxy master does not answer: ${errorText(e)}` };
    }
    const known = new Set([...before.workers, ...before.oldWorkers].map((w) => w.pid));
    await this.master.reload();
    const timeoutMs = this.opts.reloadTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    let lastProblem = "the new worker did not answer";
    while (Date.now() < deadline) {
      await sleep(50);
      let proc;
      try {
        proc = await this.master.showProc();
      } catch {
        continue; // the master is re-executing
      }
      if (proc.master.failedReloads > before.master.failedReloads) {
        return { ok: false, error: `haproxy could not load the new configuration: ${await this.logSince(logStart)}` };
      }
      const fresh = proc.workers.find((w) => w.reloads === 0 && !known.has(w.pid));
      if (!fresh) continue;
      try {
        const info = await this.runtime.showInfo();
        if (info.Pid !== String(fresh.pid)) continue;
        if (!config) return { ok: true };
        const mismatch = this.serverMismatch(config, await this.runtime.showStat());
        if (mismatch === null) return { ok: true };
        lastProblem = mismatch;
      } catch (e) {
        lastProblem = errorText(e);
      }
    }
    return { ok: false, error: `haproxy reload not confirmed within ${timeoutMs} ms: ${lastProblem}` };
  }

  private serverMismatch(config: BalancerConfig, rows: StatRow[]): string | null {
    for (const service of config.services) {
      const be = backendName(service.name);
      const live = rows.filter((r) => r.pxname === be && r.svname !== "BACKEND" && r.svname !== "FRONTEND").map((r) => r.svname);
      const want = service.servers.map((s) => s.name);
      const same = live.length === want.length && want.every((n) => live.includes(n));
      if (!same) return `backend ${be} lists servers [${live.join(", ")}], expected [${want.join(", ")}]`;
    }
    return null;
  }

  /**
   * The config file is the truth for weights and admin states: the state file may hold
   * older runtime values, and drain is rendered as weight 0 (HAProxy 2.6 has no drain
   * keyword). So after every (re)start set each server's weight and state at run time.
   */
  private async syncRuntimeState(config: BalancerConfig): Promise<void> {
    const cmds: string[] = [];
    for (const service of config.services) {
      const be = backendName(service.name);
      for (const s of service.servers) cmds.push(`set server ${be}/${s.name} weight ${s.weight}`, `set server ${be}/${s.name} state ${s.adminState}`);
    }
    for (let i = 0; i < cmds.length; i += 40) await this.runtime.run(...cmds.slice(i, i + 40));
  }

  /**
   * `show servers state` (or the state file left by an earlier run) into the state
   * file, minus servers whose name now points elsewhere: HAProxy would restore their
   * old address.
   */
  private async saveServerState(next: BalancerConfig, from: "runtime" | "file" = "runtime"): Promise<void> {
    let dump: string | null;
    try {
      dump = from === "runtime" ? await this.runtime.showServersState() : await readOrNull(this.paths.stateFile);
    } catch {
      dump = null;
    }
    if (dump === null) return; // nothing to keep
    const wanted = new Map<string, BalancerServer>();
    for (const service of next.services) for (const s of service.servers) wanted.set(`${backendName(service.name)}/${s.name}`, s);
    const kept = filterServersState(dump, (k) => {
      const s = wanted.get(`${k.backend}/${k.server}`);
      // A DNS name (docker bridge) may resolve elsewhere now: keep only exact IPv4 matches.
      return s !== undefined && s.port === k.port && s.host === k.address;
    });
    await writeAtomic(this.paths.stateFile, kept);
  }


  /**
   * After a runtime-only change, rewrite the live file (no reload) so it keeps holding
   * every current server: a later restart or reload from the file must not lose it.
   */
  private async updateModel(service: BalancerService, change: (servers: BalancerServer[]) => BalancerServer[]): Promise<void> {
    const model = await readModel(this.paths.modelFile);
    if (!model) return;
    const next = withService(model, service, change);
    await writeAtomic(this.paths.config, this.render(next));
    await writeModel(this.paths.modelFile, next);
  }
}

/** `model` with `service`'s servers changed (the service is added from `service` when the model lacks it). */
function withService(model: BalancerConfig, service: BalancerService, changeServers: (servers: BalancerServer[]) => BalancerServer[]): BalancerConfig {
  const exists = model.services.some((s) => s.name === service.name);
  // servers in name order, as the panel renders them, so a later diff shows only real changes
  const change = (servers: BalancerServer[]) => [...changeServers(servers)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const services = exists
    ? model.services.map((s) => (s.name === service.name ? { ...s, servers: change(s.servers) } : s))
    : [...model.services, { ...service, servers: change(service.servers) }].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...model, services };
}

export function createHaproxyEngine(opts: HaproxyEngineOptions): HaproxyEngine {
  return new HaproxyEngine(opts);
}
