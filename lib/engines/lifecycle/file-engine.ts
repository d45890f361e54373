/**
 * The lifecycle every file engine shares (HAProxy, nginx, the builtin proxy): one
 * mutation at a time, apply with rollback, the stored model's server list, and the
 * supervision state behind status() (adopted or spawned here, the last failure). The
 * engine adapters plug in what differs: render, the engine's own check, how a reload
 * is made and verified, how the process is found, started and stopped.
 */
import { rm } from "node:fs/promises";
import type { ApplyResult, BalancerConfig, BalancerService, EngineStatus, RunningEngineKind } from "@/lib/engines/types";
import { readModel, readOrNull, writeAtomic, writeModel } from "@/lib/engines/files";
import { applyWithRollback, launchWithRollback, type ApplySteps, type ConfigFile } from "@/lib/engines/lifecycle/apply";
import { withServers, type ServerEdit } from "@/lib/engines/lifecycle/model-edits";
import { SerialQueue } from "@/lib/process/serial-queue";
import { stopWithEscalation, type StopStep } from "@/lib/process/stop";
import { metricsState } from "@/lib/metrics/state";

/** Where the stored model lives: model.json beside the file (HAProxy, nginx), or the config file itself (the builtin proxy's JSON). */
export interface ModelStore {
  read(): Promise<BalancerConfig | null>;
  /** called after the config file was written with this model */
  write(config: BalancerConfig): Promise<void>;
}

/** model.json: the BalancerConfig behind the live file. */
export function modelFile(file: string): ModelStore {
  return { read: () => readModel(file), write: (config) => writeModel(file, config) };
}

/** A config file on disk with `<file>.bak` as its backup, written with `mode`. */
export function configFile(file: string, mode = 0o600): ConfigFile & { path: string; backup: string } {
  const backup = `${file}.bak`;
  return {
    path: file,
    backup,
    read: () => readOrNull(file),
    write: (text) => writeAtomic(file, text, mode),
    remove: () => rm(file, { force: true }),
    writeBackup: (text) => writeAtomic(backup, text, mode),
  };
}

export type FileEngineOptions = {
  kind: RunningEngineKind;
  mode: EngineStatus["mode"];
  file: ConfigFile & { path: string; backup: string };
  model: ModelStore;
  render: (config: BalancerConfig) => string;
};

/** What status() reports that only the engine knows. */
export type StatusFacts = Pick<EngineStatus, "running" | "version" | "pid" | "listen"> & Partial<Pick<EngineStatus, "statsFeed" | "location" | "adopted">>;

export class FileEngine {
  /** one mutation at a time: applies, fast paths and supervision never interleave */
  private readonly queue = new SerialQueue();
  /** the last apply's failure, shown by status() until an apply or start succeeds */
  lastError: string | undefined;
  /** found running at start (not started by this object) */
  adopted = false;
  /** the pid this object started (a second start() on the same object is not an adoption) */
  private spawnedPid: number | null = null;

  constructor(private readonly opts: FileEngineOptions) {}

  get file(): FileEngineOptions["file"] {
    return this.opts.file;
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  /**
   * Apply with rollback (lifecycle/apply.ts). A failed reload is kept for status() (a
   * refused check is not: the engine runs on, unchanged); a success clears it. Call inside exclusive().
   */
  async applyNow(rendered: string, steps: ApplySteps): Promise<ApplyResult> {
    let reloadError: string | undefined;
    const metrics = metricsState(); // GET /metrics counts reloads and apply results
    const counted = (reload: ApplySteps["reload"]) => async () => {
      const r = await reload();
      if (r.ok ? r.reloaded !== false : true) metrics.engineReload(this.opts.kind, r.ok);
      return r;
    };
    const reload = counted(async () => {
      const r = await steps.reload();
      if (!r.ok) reloadError = r.error;
      return r;
    });
    const result = await applyWithRollback(this.opts.file, rendered, { ...steps, reload, reloadPrevious: counted(steps.reloadPrevious) });
    if (result.ok) this.lastError = undefined;
    else if (reloadError !== undefined) this.lastError = reloadError;
    metrics.applyResult(this.opts.kind, result.ok ? "ok" : reloadError === undefined ? "refused" : result.rolledBack ? "rolled_back" : "failed");
    return result;
  }

  /** Apply to a supervised engine that is down: it starts with the new file; a failed start restores the old file. Call inside exclusive(). */
  async launchNow(launch: () => Promise<void>): Promise<ApplyResult> {
    const result = await launchWithRollback(this.opts.file, launch);
    this.lastError = result.ok ? undefined : result.error;
    metricsState().applyResult(this.opts.kind, result.ok ? "ok" : "failed");
    return result;
  }

  /**
   * After a runtime-only change (no reload): the stored model and the live file get the
   * edited server list, so a later reload or restart from the file keeps every current
   * server. Nothing happens before the first apply (no model yet). Call inside exclusive().
   */
  async editModel(service: BalancerService, edit: ServerEdit): Promise<BalancerConfig | null> {
    const model = await this.opts.model.read();
    if (!model) return null;
    const next = withServers(model, service, edit);
    await this.opts.file.write(this.opts.render(next));
    await this.opts.model.write(next);
    return next;
  }

  readModel(): Promise<BalancerConfig | null> {
    return this.opts.model.read();
  }

  writeModel(config: BalancerConfig): Promise<void> {
    return this.opts.model.write(config);
  }

  liveConfig(): Promise<string | null> {
    return this.opts.file.read();
  }

  /** A process this object just started and saw ready. */
  started(pid: number | null): void {
    this.spawnedPid = pid;
    this.adopted = false;
    this.lastError = undefined;
  }

  /** A process found running at start: adopted unless this object started it. */
  found(pid: number | null): void {
    this.adopted = pid === null || pid !== this.spawnedPid;
  }

  /** Stop a supervised process (signals in turn, graceful first) and remove its files (pid file, sockets). */
  async stopProcess(pid: number | null, steps: readonly StopStep[], files: readonly string[]): Promise<void> {
    if (pid !== null) await stopWithEscalation(pid, steps);
    for (const f of files) await rm(f, { force: true });
    this.adopted = false;
  }

  status(facts: StatusFacts): EngineStatus {
    const { location, statsFeed, adopted, ...rest } = facts;
    return {
      kind: this.opts.kind,
      mode: this.opts.mode,
      ...rest,
      location: location ?? this.opts.file.path,
      adopted: adopted ?? this.adopted,
      ...(statsFeed ? { statsFeed } : {}),
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }
}

/** A value asked for once (an engine binary's version) and kept, failures included as null. */
export function once<T>(ask: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= ask());
}
