import { AppError } from "@/lib/core/errors";
import { engineError } from "@/lib/engines/errors";
import type { RunningEngine } from "@/lib/engines/types";
import { SerialQueue } from "@/lib/process/serial-queue";
import { sleep } from "@/lib/process/sleep";
import { EngineWatchdog } from "@/lib/controller/engine-watchdog";
import { serverMismatch, servedServerDrift } from "@/lib/engines/lifecycle/model-edits";
import type { ControllerRepository } from "@/lib/controller/repository";

/**
 * The engine as the controller keeps it: started (or adopted) and made to serve exactly
 * what the database lists, one lock that every membership change and apply holds, and
 * the watchdog that restarts it when it dies (supervised mode) or reports it (external).
 */

const ENGINE_WAIT_MS = 30_000;

export type EngineSupervisorDeps = {
  engine: () => RunningEngine;
  repo: Pick<ControllerRepository, "balancerConfig" | "recordEvent">;
};

export class EngineSupervisor {
  /** engine membership changes and config applies never interleave */
  readonly lock = new SerialQueue();
  /** restarts the engine when it dies (supervised mode), reports it (external mode) */
  readonly watchdog: EngineWatchdog;
  private isReady = false;
  private error: string | null = null;
  /** engine changes started under the engine lock whose engine side (a batched reload) may still run */
  private readonly changes = new Set<Promise<void>>();

  constructor(private readonly deps: EngineSupervisorDeps) {
    this.watchdog = new EngineWatchdog(this);
  }

  get engine(): RunningEngine {
    return this.deps.engine();
  }

  /** ready: the engine was started or adopted, and not found down since */
  get ready(): boolean {
    return this.isReady;
  }

  engineState(): { ready: boolean; error: string | null } {
    return { ready: this.isReady, error: this.error };
  }

  /** The watchdog found the engine down: nothing goes to it until ensureEngine succeeds. */
  engineLost(): void {
    this.isReady = false;
  }

  /**
   * Start (or adopt) the engine; then make sure it serves exactly the servers the database
   * lists. `restart`: the watchdog found it down at that time (the event says so).
   */
  async ensureEngine(restart?: { downSince: number }): Promise<boolean> {
    if (this.isReady) return true;
    const { repo } = this.deps;
    try {
      await this.lock.run(async () => {
        if (this.isReady) return; // started by another caller while this one waited for the lock
        const config = await repo.balancerConfig();
        await this.engine.start(config);
        const status = await this.engine.status();
        let reapplied: string | null = null;
        if (status.adopted) {
          // The engine kept serving while the panel was down: re-apply when its servers are not
          // exactly the database's, by name (what it reports) or by address, port, weight or
          // state (its stored model), e.g. a replica restarted on a new port meanwhile.
          const stats = await this.engine.stats();
          reapplied = serverMismatch(config, stats.servers.map((s) => `${s.service}/${s.server}`)) ?? servedServerDrift(config, await this.engine.servedConfig());
          if (reapplied !== null) {
            const r = await this.engine.apply(this.engine.render(config), config);
            if (!r.ok) throw engineError(r);
          }
        }
        const where = `${status.listen.host}:${status.listen.port}`;
        if (restart) {
          const downMs = Date.now() - restart.downSince;
          const what = status.adopted ? "answers again" : "restarted";
          await repo.recordEvent({ kind: "engine.restarted", actor: "controller", message: `${status.kind} ${what} on ${where}, ${downMs} ms after the panel found it down`, data: { downMs, runtimeRef: status.pid === null ? null : String(status.pid) } });
        } else {
          await repo.recordEvent({ kind: status.adopted ? "engine.adopted" : "engine.started", actor: "controller", message: `${status.kind} ${status.adopted ? "adopted (it kept serving while the panel was down)" : "started"} on ${where}${reapplied === null ? "" : `; re-applied: ${reapplied}`}` });
        }
        this.isReady = true;
      });
      this.error = null;
      return true;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.error) {
        await repo.recordEvent({ kind: "engine.error", level: "error", actor: "controller", message: `the balancer could not start: ${msg}` }).catch(() => undefined);
      }
      this.error = msg;
      return false;
    }
  }

  /** Wait (starting it meanwhile) until the engine runs; fails after ENGINE_WAIT_MS. */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + ENGINE_WAIT_MS;
    while (!this.isReady) {
      if (Date.now() > deadline) throw new AppError("engine_error", `the balancer is not running: ${this.error ?? "unknown error"}`);
      await this.ensureEngine();
      if (!this.isReady) await sleep(1000);
    }
  }

  /** Remembers an engine change started under the engine lock until it has finished (see whenEngineQuiet). */
  trackChange(change: Promise<void>): Promise<void> {
    this.changes.add(change);
    const done = () => this.changes.delete(change);
    change.then(done, done);
    return change;
  }

  /**
   * Run `fn` under the engine lock once every engine change started before has finished
   * (nginx's batched reload included): nothing is mid-reload, so a status read there is the truth.
   */
  whenEngineQuiet<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      await Promise.allSettled([...this.changes]);
      return fn();
    });
  }
}
