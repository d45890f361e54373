import { recordEvent } from "@/lib/events";
import type { RunningEngine, EngineStatus } from "@/lib/engines/types";
import { backoffMs } from "@/lib/controller/work-queue";

/**
 * The engine watchdog: one timer in the controller (never one per request or viewer)
 * that looks at the balancer every WATCH_MS. A supervised engine found not running is
 * restarted at once from the database's configuration (the controller's ensureEngine,
 * which also re-adds every replica in rotation), then with capped backoff while restarts
 * fail; an engine in external mode is only reported, and adopted again when it answers.
 * Each death and each restart is an event; so is each failure an engine healed by itself
 * (RunningEngine.incidents: nginx's master respawns a killed worker).
 */

export const ENGINE_WATCH_MS = 250;
const RESTART_BACKOFF_MAX_MS = 10_000;

/** What the watchdog needs from the controller (its EngineSupervisor, engine-supervisor.ts). */
export type SupervisedEngine = {
  readonly engine: RunningEngine;
  /** `fn` under the lock every apply and membership change holds, once their engine side has finished: a reload in progress is never taken for a death */
  whenEngineQuiet<T>(fn: () => Promise<T>): Promise<T>;
  /** ready: the engine was started or adopted, and not found down since */
  engineState(): { ready: boolean };
  /** the engine stopped: nothing is sent to it until ensureEngine succeeds */
  engineLost(): void;
  /** start (or adopt) the engine and make it serve the database's configuration; `restart` says since when it was down */
  ensureEngine(restart?: { downSince: number }): Promise<boolean>;
};

export class EngineWatchdog {
  private timer: NodeJS.Timeout | null = null;
  private looking: Promise<void> | null = null;
  /** when a look first found the engine down; null while it runs */
  private downSince: number | null = null;
  private last: Pick<EngineStatus, "pid" | "mode"> | null = null;
  private failures = 0;
  private nextAttemptAt = 0;

  constructor(
    private readonly supervisor: SupervisedEngine,
    private readonly intervalMs = ENGINE_WATCH_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look now (the timer's; callers share a look in progress). */
  check(): Promise<void> {
    this.looking ??= this.look()
      .catch((e) => console.error("[switchyard] engine watchdog:", e))
      .finally(() => (this.looking = null));
    return this.looking;
  }

  private async look(): Promise<void> {
    const engine = this.supervisor.engine;
    await this.recordIncidents(engine);
    let status = await engine.status().catch(() => null);
    // Confirm under the engine lock: during an apply the engine may look down for a moment
    // (HAProxy's master re-executes itself on reload; a start removes the pid file first).
    if (!status?.running) status = await this.supervisor.whenEngineQuiet(() => engine.status()).catch(() => null);
    if (status?.mode === "export-only") return;
    if (status?.running) {
      if (this.downSince !== null) {
        // back without a restart by the panel (external mode: its owner restarted it)
        if (!(await this.supervisor.ensureEngine({ downSince: this.downSince }))) return;
        this.downSince = null;
      }
      this.failures = 0;
      this.last = { pid: status.pid, mode: status.mode };
      return;
    }
    await this.down(engine, status);
  }

  private async down(engine: RunningEngine, status: EngineStatus | null): Promise<void> {
    const mode = status?.mode ?? this.last?.mode ?? "supervised";
    if (this.downSince === null) {
      this.downSince = Date.now();
      const wasRunning = this.supervisor.engineState().ready || this.last !== null;
      this.supervisor.engineLost();
      // an engine that never ran is the start's failure (engine.error), not a death
      if (wasRunning) {
        const why = status?.error ? `: ${status.error}` : "";
        const next = mode === "external" ? "it runs outside the panel (external mode), so the panel waits for it to answer again" : "the panel restarts it";
        // the pid goes in data as runtimeRef, which viewers do not get (lib/services/views.ts)
        const pid = this.last?.pid ?? null;
        await recordEvent({ kind: "engine.died", level: "error", actor: "controller", message: `${engine.kind} stopped running${why}; ${next}`, data: { runtimeRef: pid === null ? null : String(pid), mode } }).catch(() => undefined);
      }
    }
    if (mode === "external" || Date.now() < this.nextAttemptAt) return;
    if (await this.supervisor.ensureEngine({ downSince: this.downSince })) {
      this.downSince = null;
      this.failures = 0;
      this.nextAttemptAt = 0;
      const now = await engine.status().catch(() => null);
      this.last = { pid: now?.pid ?? null, mode };
    } else {
      this.failures++;
      this.nextAttemptAt = Date.now() + backoffMs(this.failures, { firstMs: 500, maxMs: RESTART_BACKOFF_MAX_MS });
    }
  }

  private async recordIncidents(engine: RunningEngine): Promise<void> {
    if (!engine.incidents) return;
    const incidents = await engine.incidents().catch(() => []);
    for (const i of incidents) {
      await recordEvent({ kind: "engine.incident", level: "warn", actor: "controller", message: `${engine.kind}: ${i.message}`, data: { runtimeRef: i.pid === null ? null : String(i.pid) } }).catch(() => undefined);
    }
  }
}
