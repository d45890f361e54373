import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
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
import { HaproxyMasterApi, HaproxyRuntimeApi } from "@/lib/engines/haproxy/runtime-api";
import { serverStatsOf } from "@/lib/engines/haproxy/stats";
import { haproxyPaths, renderOptionsOf, type HaproxyEngineOptions, type HaproxyPaths } from "@/lib/engines/haproxy/options";
import { HAPROXY_STOP_STEPS, HaproxyMaster, errorText } from "@/lib/engines/haproxy/master";
import { HaproxyReloader } from "@/lib/engines/haproxy/reload";
import { FileEngine, configFile, modelFile } from "@/lib/engines/lifecycle/file-engine";
import { addServerEdit, patchServerEdit, removeServerEdit, withServers } from "@/lib/engines/lifecycle/model-edits";
import { exec, isExecError } from "@/lib/process/exec";
import { acquireLogReceiver, withRequestLog, type HaproxyLogReceiver } from "@/lib/engines/haproxy/log-receiver";

/**
 * The HAProxy engine adapter (HAProxy 2.6, master-worker): HAProxy's render, check,
 * reload and runtime API plugged into the shared file-engine lifecycle
 * (lib/engines/lifecycle). Files: options.ts; the master process: master.ts; reload and
 * verify: reload.ts. The master runs detached, so it keeps serving when the panel
 * stops; a later start() adopts it.
 */

export type { HaproxyEngineOptions } from "@/lib/engines/haproxy/options";
export { haproxyCapabilities } from "@/lib/engines/haproxy/capabilities";

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

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
  private readonly process: HaproxyMaster;
  private readonly reloader: HaproxyReloader;
  private readonly lifecycle: FileEngine;
  /** the panel's end of HAProxy's per-request log (p50/p95/p99), null without one */
  private readonly requestLog: HaproxyLogReceiver | null;

  constructor(private readonly opts: HaproxyEngineOptions) {
    this.paths = haproxyPaths(opts);
    for (const sock of [this.paths.masterSocket, this.paths.runtimeSocket]) {
      if (Buffer.byteLength(sock) > MAX_SOCKET_PATH) {
        throw new AppError("bad_request", `haproxy socket path is longer than ${MAX_SOCKET_PATH} bytes (a unix socket limit): ${sock}; use a shorter data folder`);
      }
    }
    this.binary = opts.binary ?? "haproxy";
    this.renderOptions = renderOptionsOf(opts, this.paths);
    this.requestLog = this.renderOptions.requestLog ? acquireLogReceiver(this.renderOptions.requestLog) : null;
    this.runtime = new HaproxyRuntimeApi(this.paths.runtimeSocket);
    this.master = new HaproxyMasterApi(this.paths.masterSocket);
    this.process = new HaproxyMaster(this.paths, this.binary, opts.mode, this.master, this.runtime);
    this.reloader = new HaproxyReloader(this.paths, this.master, this.runtime, this.process, opts.reloadTimeoutMs ?? 15_000);
    this.lifecycle = new FileEngine({
      kind: "haproxy",
      mode: opts.mode,
      file: configFile(this.paths.config),
      model: modelFile(this.paths.modelFile),
      render: (config) => this.render(config),
    });
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
    return this.lifecycle.exclusive(() => this.applyNow(rendered, config));
  }

  /**
   * Down: external mode refuses, supervised starts a master on the new file. Running:
   * check -> save server state -> back up -> atomic rename -> master reload -> verify
   * (new worker answers, exact servers) -> sync weights/states; a failed reload restores
   * the backup and reloads again (lifecycle/apply.ts).
   */
  private async applyNow(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    if ((await this.process.runningPid()) === null) {
      if (this.opts.mode === "external") return { ok: false, error: "haproxy is not running (external mode: the panel does not start it)", rolledBack: false };
      return this.lifecycle.launchNow(() => this.launch(rendered, config));
    }
    return this.lifecycle.applyNow(rendered, {
      check: (text) => this.check(text),
      beforeWrite: () => this.reloader.saveServerState(config),
      reload: () => this.reloader.reloadAndVerify(config),
      commit: async () => {
        await this.reloader.syncRuntimeState(config);
        await this.lifecycle.writeModel(config);
      },
      reloadPrevious: async () => {
        const previous = await this.lifecycle.readModel();
        if (previous) await this.reloader.saveServerState(previous);
        const back = await this.reloader.reloadAndVerify(previous);
        if (back.ok && previous) await this.reloader.syncRuntimeState(previous);
        return back;
      },
      withoutPrevious: "keep",
    });
  }

  liveConfig(): Promise<string | null> {
    return this.lifecycle.liveConfig();
  }

  servedConfig(): Promise<BalancerConfig | null> {
    return this.lifecycle.readModel();
  }

  /** The real dynamic-cookie-key stays in the file HAProxy reads; everything shown gets the placeholder. */
  redact(text: string): string {
    return redactHaproxyConfig(text);
  }

  addServer(service: BalancerService, server: BalancerServer): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      const be = backendName(service.name);
      try {
        await this.runtime.addServer(be, server.name, serverAddress(server), serverKeywords(service.rules, server, { forConfigFile: false }), server.adminState);
      } catch (e) {
        if (isAppError(e) && e.code === "not_found") {
          // A service the running config does not have yet: only a reload can add its backend.
          const model = await this.lifecycle.readModel();
          if (!model) throw e;
          const next = withServers(model, service, addServerEdit(server));
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
      await this.lifecycle.editModel(service, addServerEdit(server));
    });
  }

  removeServer(service: BalancerService, serverName: string): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      const timeoutMs = Math.max(1000, Math.min(service.rules.drainTimeoutMs, 60_000));
      await this.runtime.delServer(backendName(service.name), serverName, { timeoutMs });
      await this.lifecycle.editModel(service, removeServerEdit(serverName));
    });
  }

  setServerState(service: BalancerService, serverName: string, state: AdminState): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      await this.runtime.setState(backendName(service.name), serverName, state);
      await this.lifecycle.editModel(service, patchServerEdit(serverName, { adminState: state }));
    });
  }

  setWeight(service: BalancerService, serverName: string, weight: number): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      await this.runtime.setWeight(backendName(service.name), serverName, weight);
      await this.lifecycle.editModel(service, patchServerEdit(serverName, { weight }));
    });
  }

  /** `set server … addr … port …` at run time (no reload); the model and file get it, and saveServerState drops the old address before a reload. */
  setServerAddress(service: BalancerService, serverName: string, host: string, port: number): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      await this.runtime.setAddress(backendName(service.name), serverName, host, port);
      await this.lifecycle.editModel(service, patchServerEdit(serverName, { host, port }));
    });
  }

  async stats(): Promise<EngineStats> {
    const rows = await this.runtime.showStat();
    return { at: Date.now(), servers: withRequestLog(serverStatsOf(rows), this.requestLog) };
  }

  start(initial: BalancerConfig): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      await mkdir(this.paths.base, { recursive: true });
      await this.requestLog?.start(); // listening before HAProxy starts or is adopted: an adopted one keeps feeding
      if (this.opts.mode === "external") {
        try {
          await this.master.showProc();
        } catch (e) {
          throw new AppError("unavailable", `external haproxy does not answer on its master socket ${this.paths.masterSocket}: ${errorText(e)}`);
        }
        this.lifecycle.found(null);
        return;
      }
      const running = await this.process.runningPid();
      if (running !== null) {
        this.lifecycle.found(running);
        return;
      }
      await this.launch(this.render(initial), initial);
    });
  }

  stop(): Promise<void> {
    return this.lifecycle.exclusive(async () => {
      if (this.opts.mode === "external") return;
      const pid = await this.process.ownPid();
      if (pid === null) return;
      await this.lifecycle.stopProcess(pid, HAPROXY_STOP_STEPS, [this.paths.pidFile]);
    });
  }

  async status(): Promise<EngineStatus> {
    const pid = await this.process.runningPid();
    const statsFeed = this.requestLog?.feed();
    return this.lifecycle.status({ running: pid !== null, version: await this.process.version(), pid, listen: this.opts.listen, ...(statsFeed ? { statsFeed } : {}) });
  }

  /** Check, write and spawn a new detached master; wait until its worker answers. */
  private async launch(rendered: string, config: BalancerConfig): Promise<void> {
    await mkdir(this.paths.base, { recursive: true });
    const checked = await this.check(rendered);
    if (!checked.ok) throw engineError(checked);
    await this.requestLog?.start();
    await this.lifecycle.file.write(rendered);
    await this.reloader.saveServerState(config, "file"); // an old state file must not bring back old addresses
    const pid = await this.process.spawn(this.opts.startTimeoutMs ?? 10_000);
    this.lifecycle.started(pid);
    await this.reloader.syncRuntimeState(config);
    await this.lifecycle.writeModel(config);
  }
}

export function createHaproxyEngine(opts: HaproxyEngineOptions): HaproxyEngine {
  return new HaproxyEngine(opts);
}
