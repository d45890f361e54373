import { AppError, isAppError } from "@/lib/core/errors";
import { serverNameFor } from "@/lib/engines/types";
import type { Runtime, RuntimeKind, RuntimeReplica } from "@/lib/runtime/types";
import { splitAddr, toServer } from "@/lib/db/balancer-config";
import { backoffMs, type WorkQueue } from "@/lib/controller/work-queue";
import type { EngineSupervisor } from "@/lib/controller/engine-supervisor";
import type { ControllerRepository, ServiceRecord } from "@/lib/controller/repository";
import type { ProbeResult } from "@/lib/controller/probe";

/**
 * What the controller does to one replica, each as a tracked background task: bring one
 * up (create, wait until healthy, then into the engine), drain and stop one, clean up one
 * that died or failed, restart one in place. At most one task per replica (`inflight`);
 * when a task ends, its service is reconciled again (after the backoff while bring-ups fail).
 */

const BRING_UP_DEADLINE_MS = 30_000;
export const STOP_GRACE_MS = 10_000;

/** Waits until a replica answers its health check (lib/controller/probe.ts's waitHealthy). */
export type WaitHealthy = (
  addr: { host: string; port: number },
  opts: { path: string; timeoutMs: number; expectStatus: number; replicaId?: string; deadlineMs: number; isAlive?: () => Promise<boolean> },
) => Promise<ProbeResult>;

export type ReplicaTaskDeps = {
  repo: ControllerRepository;
  runtimeFor: (kind: RuntimeKind) => Runtime;
  /** the runtime a service's instances are in (its endpoints, its discovered containers); default: runtimeFor(svc.runtime) */
  runtimeOf?: (svc: ServiceRecord) => Runtime;
  engine: EngineSupervisor;
  queue: Pick<WorkQueue, "kick" | "kickLater" | "noteFailure" | "afterTask">;
  waitHealthy: WaitHealthy;
  sleep: (ms: number) => Promise<void>;
};

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class ReplicaTasks {
  /** replica ids with a task in flight (a bring-up, a drain, a clean-up, a restart) */
  readonly inflight = new Set<string>();
  /** replicas whose drain failed: how often, and when it may be tried again */
  private readonly drainRetries = new Map<string, { failures: number; at: number }>();

  constructor(private readonly deps: ReplicaTaskDeps) {}

  /** The runtime the service's instances are in (lib/runtime/registry.ts runtimeOfService). */
  runtimeOf(svc: ServiceRecord): Runtime {
    return this.deps.runtimeOf ? this.deps.runtimeOf(svc) : this.deps.runtimeFor(svc.runtime);
  }

  isBusy(id: string): boolean {
    return this.inflight.has(id);
  }

  /** A drain of `id` failed and its retry is not due yet (its retry timer kicks again). */
  drainRetryPending(id: string): boolean {
    return (this.drainRetries.get(id)?.at ?? 0) > Date.now();
  }

  /** Run `task` for replica `id` in the background; when it ends, reconcile its service again. */
  track(serviceId: string, id: string, task: () => Promise<void>): void {
    this.inflight.add(id);
    void task()
      .catch((e) => console.error(`[switchyard] task for replica ${id} failed`, e))
      .finally(async () => {
        this.inflight.delete(id);
        const row = await this.deps.repo.replica(id).catch(() => null);
        // capped exponential backoff before replacing a replica that failed to come up
        this.deps.queue.afterTask(serviceId, row?.state === "ready");
      });
  }

  /** Create a replica, wait until it answers its health check, then put it in rotation. */
  async bringUp(serviceId: string, id: string): Promise<void> {
    const { repo } = this.deps;
    const svc = await repo.service(serviceId);
    if (!svc) return;
    const runtime = this.runtimeOf(svc);
    try {
      const spec = await repo.replicaSpec(serviceId, id);
      if (!spec) return;
      const rt = await runtime.create(spec);
      await repo.updateReplica(id, { runtimeRef: rt.runtimeRef, dataAddr: `${rt.dataAddr.host}:${rt.dataAddr.port}`, adminAddr: `${rt.adminAddr.host}:${rt.adminAddr.port}`, startedAt: rt.startedAt });
      await repo.recordEvent({ kind: "replica.created", actor: "controller", serviceId, replicaId: id, message: `started replica ${id} (${runtime.kind}) on ${rt.dataAddr.host}:${rt.dataAddr.port}`, data: { runtimeRef: rt.runtimeRef } });
      await this.bringUpExisting(serviceId, id);
    } catch (e) {
      await this.markFailed(serviceId, id, e);
    }
  }

  /** Wait for health, then add to the engine (no reload where the engine allows). */
  async bringUpExisting(serviceId: string, id: string): Promise<void> {
    const { repo, engine } = this.deps;
    let wasFailed = false;
    try {
      const row = await repo.replica(id);
      const rules = await repo.rules(serviceId);
      if (!row || !row.dataAddr || !rules) return;
      // a listed instance (external endpoint, discovered container) that was down and is tried again
      wasFailed = row.state === "failed";
      const svc = await repo.service(serviceId);
      const runtime = this.runtimeOf(svc!);
      const health = await this.deps.waitHealthy(splitAddr(row.dataAddr), {
        path: rules.healthCheck.path,
        timeoutMs: rules.healthCheck.timeoutMs,
        expectStatus: rules.healthCheck.expectStatus,
        replicaId: id,
        deadlineMs: BRING_UP_DEADLINE_MS,
        isAlive: async () => (row.runtimeRef ? (await runtime.inspect(row.runtimeRef))?.state === "running" : true),
      });
      if (!health.ok) throw new AppError("runtime_error", `replica ${id} did not become healthy: ${health.reason}`);
      await engine.waitReady();
      // The add is started under the engine lock, so engine changes keep the lock's order,
      // and awaited after it: nginx resolves addServer only after its batched reload, and
      // holding the lock across that reload made every bring-up a batch (and a reload) of its own.
      const added: Promise<void>[] = [];
      let serverName: string | null = null;
      await engine.lock.run(async () => {
        const updated = await repo.updateReplica(id, { inEngine: true, health: "up", healthReason: health.reason });
        const service = await repo.balancerService(serviceId);
        const server = toServer(updated);
        serverName = server?.name ?? null;
        if (service && server) added.push(engine.trackChange(engine.engine.addServer(service, server)));
      });
      try {
        await Promise.all(added);
      } catch (e) {
        await engine.lock.run(async () => {
          await repo.updateReplica(id, { inEngine: false });
          // An apply that took the lock while the add was in flight built its config with this
          // replica in the engine (the row said so), so the server may be in after all: take it out.
          const service = await repo.balancerService(serviceId);
          if (service && serverName) await engine.engine.removeServer(service, serverName).catch(() => undefined);
        });
        throw e;
      }
      await repo.updateReplica(id, { state: "ready", lastError: null });
      const message = wasFailed ? `replica ${id} recovered: healthy again and back in rotation` : `replica ${id} is healthy and in rotation`;
      await repo.recordEvent({ kind: "replica.ready", actor: "controller", serviceId, replicaId: id, message });
    } catch (e) {
      await this.markFailed(serviceId, id, e, { again: wasFailed });
    }
  }

  /**
   * `again`: a retry of an instance already failed (a listed one the panel cannot replace):
   * its row keeps the latest reason, and the event is not repeated; the transition to
   * failed had its event, and the way back up has one ("recovered").
   */
  private async markFailed(serviceId: string, id: string, e: unknown, opts: { again?: boolean } = {}): Promise<void> {
    const msg = isAppError(e) || e instanceof Error ? e.message : String(e);
    await this.deps.repo.updateReplica(id, { state: "failed", lastError: msg.slice(0, 2000) }).catch(() => undefined);
    if (!opts.again) await this.deps.repo.recordEvent({ kind: "replica.failed", level: "error", actor: "controller", serviceId, replicaId: id, message: `replica ${id} failed: ${msg}` }).catch(() => undefined);
    this.deps.queue.noteFailure(serviceId);
  }

  /** A replica that died or failed: out of the engine, out of the runtime, out of the database. */
  async cleanup(serviceId: string, id: string, rt: RuntimeReplica | null): Promise<void> {
    const { repo } = this.deps;
    const row = await repo.replica(id);
    if (!row) return;
    const svc = await repo.service(serviceId);
    // instances the panel did not start are let go of, never stopped or removed
    const runtime = svc && !svc.source ? this.runtimeOf(svc) : null;
    if (row.inEngine) await this.removeFromEngine(serviceId, id);
    // the runtime may know a replica the database has no ref for (the panel stopped before it recorded one)
    const ref = row.runtimeRef ?? rt?.runtimeRef ?? null;
    if (runtime && ref) {
      await runtime.stop(ref, 2000).catch(() => undefined);
      await runtime.remove(ref).catch(() => undefined);
    }
    await repo.deleteReplica(id).catch(() => undefined);
    this.drainRetries.delete(id);
    if (row.state === "draining" || row.state === "stopping") {
      await repo.recordEvent({ kind: "replica.stopped", actor: "controller", serviceId, replicaId: id, message: `replica ${id} was leaving and its process is gone: removed` });
    } else if (row.state !== "failed") {
      const why = rt ? (rt.oomKilled ? "killed: out of memory" : `exited with code ${rt.exitCode ?? "?"}`) : "its process is gone";
      await repo.recordEvent({ kind: "replica.died", level: "warn", actor: "controller", serviceId, replicaId: id, message: `replica ${id} died (${why}); a replacement starts` });
    } else {
      await repo.recordEvent({ kind: "replica.removed", actor: "controller", serviceId, replicaId: id, message: `removed failed replica ${id}` });
    }
  }

  /**
   * Out of the engine. `drainLeftMs`: what is left of a drain the caller already waited
   * out; the engine waits at most that long for the last connections (HAProxy: at least
   * a second) instead of a whole drain timeout again.
   */
  private async removeFromEngine(serviceId: string, id: string, opts: { drainLeftMs?: number } = {}): Promise<void> {
    const { repo, engine } = this.deps;
    await engine.lock.run(async () => {
      const service = await repo.balancerService(serviceId);
      await repo.updateReplica(id, { inEngine: false });
      if (!service || !engine.ready) return;
      const left = opts.drainLeftMs;
      await engine.engine.removeServer(left === undefined ? service : { ...service, rules: { ...service.rules, drainTimeoutMs: left } }, serverNameFor(id));
    });
  }

  /**
   * Scale-in and removal: drain in the engine, wait until the replica's active
   * connections reach 0 (or the drain timeout), take it out of the engine, then stop it.
   */
  async drainAndStop(serviceId: string, id: string, why: string): Promise<void> {
    try {
      await this.drainAndStopOnce(serviceId, id, why);
      this.drainRetries.delete(id);
    } catch (e) {
      // Still `draining` in the database: plan() hands it back, and the next try (after the
      // backoff) drains it in the engine, or, if the engine is down meanwhile, just stops it.
      const failures = (this.drainRetries.get(id)?.failures ?? 0) + 1;
      const delay = backoffMs(failures);
      this.drainRetries.set(id, { failures, at: Date.now() + delay });
      this.deps.queue.kickLater(serviceId, delay);
      const msg = messageOf(e);
      await this.deps.repo.updateReplica(id, { lastError: msg.slice(0, 2000) }).catch(() => undefined);
      await this.deps.repo.recordEvent({ kind: "replica.drain-failed", level: "warn", actor: "controller", serviceId, replicaId: id, message: `draining replica ${id} failed (${msg}); it stays out of rotation and is retried in ${Math.round(delay / 1000)} s` }).catch(() => undefined);
    }
  }

  private async drainAndStopOnce(serviceId: string, id: string, why: string): Promise<void> {
    const { repo, engine } = this.deps;
    const row = await repo.updateReplica(id, { state: "draining" });
    const rules = await repo.rules(serviceId);
    const svc = await repo.service(serviceId);
    await repo.recordEvent({ kind: "replica.draining", actor: "controller", serviceId, replicaId: id, message: `draining replica ${id} (${why})` });
    // An engine that is down gets no traffic to drain: the replica only leaves its config
    // (removeFromEngine), and an engine restarted from the database no longer lists it.
    if (row.inEngine && engine.ready) {
      const service = await repo.balancerService(serviceId);
      if (service) await engine.lock.run(() => engine.engine.setServerState(service, serverNameFor(id), "drain"));
      const deadline = Date.now() + (rules?.drainTimeoutMs ?? 30_000);
      // at least a second in drain: requests dispatched just before the state change finish,
      // and viewers see the replica leave rather than vanish
      await this.deps.sleep(1000);
      while (Date.now() < deadline) {
        const stats = await engine.engine.stats().catch(() => null);
        const mine = stats?.servers.find((s) => s.server === serverNameFor(id));
        if (!mine || mine.activeConnections === 0) break;
        await this.deps.sleep(250);
      }
      await this.removeFromEngine(serviceId, id, { drainLeftMs: Math.max(0, deadline - Date.now()) });
    } else if (row.inEngine) await this.removeFromEngine(serviceId, id);
    await repo.updateReplica(id, { state: "stopping" });
    // an external endpoint or a discovered container leaves the pool and keeps running: the panel did not start it
    if (svc && row.runtimeRef && !svc.source) {
      const runtime = this.runtimeOf(svc);
      await runtime.stop(row.runtimeRef, STOP_GRACE_MS).catch(() => undefined);
      await runtime.remove(row.runtimeRef).catch(() => undefined);
    }
    await repo.deleteReplica(id).catch(() => undefined);
    if (svc?.source) await repo.recordEvent({ kind: "replica.released", actor: "controller", serviceId, replicaId: id, message: `${row.dataAddr ?? id} drained and left the pool (${why}); it keeps running` });
    else await repo.recordEvent({ kind: "replica.stopped", actor: "controller", serviceId, replicaId: id, message: `replica ${id} drained and stopped` });
  }

  /** Used by replica actions: remove this replica (the desired count was already lowered). */
  async removeReplica(serviceId: string, id: string, newDesired: number): Promise<void> {
    if (this.inflight.has(id)) throw new AppError("conflict", `replica ${id} is busy (starting or draining)`);
    this.inflight.add(id);
    // one transaction: no reconcile can see the lower count without this victim already leaving
    await this.deps.repo.lowerDesiredAndDrain(serviceId, id, newDesired);
    this.inflight.delete(id);
    this.track(serviceId, id, () => this.drainAndStop(serviceId, id, "removed by a user"));
  }

  /** Restart in place without dropping requests: maint in the engine, restart, wait healthy, back to its admin state. */
  async restartReplica(serviceId: string, id: string): Promise<void> {
    const { repo, engine } = this.deps;
    if (this.inflight.has(id)) throw new AppError("conflict", `replica ${id} is busy (starting or draining)`);
    const row = await repo.replica(id);
    const svc = await repo.service(serviceId);
    if (!row || !svc || !row.runtimeRef) throw new AppError("not_found", "no such running replica");
    this.inflight.add(id);
    try {
      const runtime = this.runtimeOf(svc);
      const service = await repo.balancerService(serviceId);
      if (row.inEngine && service && engine.ready) await engine.lock.run(() => engine.engine.setServerState(service, serverNameFor(id), "maint"));
      await repo.updateReplica(id, { state: "starting" });
      const rt = await runtime.restart(row.runtimeRef);
      await repo.updateReplica(id, { runtimeRef: rt.runtimeRef, startedAt: rt.startedAt });
      const rules = await repo.rules(serviceId);
      if (!rules) throw new AppError("not_found", "no such running replica");
      const health = await this.deps.waitHealthy(rt.dataAddr, { path: rules.healthCheck.path, timeoutMs: rules.healthCheck.timeoutMs, expectStatus: rules.healthCheck.expectStatus, replicaId: id, deadlineMs: BRING_UP_DEADLINE_MS });
      if (!health.ok) throw new AppError("runtime_error", `replica ${id} did not come back healthy: ${health.reason}`);
      if (row.inEngine && service && engine.ready) await engine.lock.run(() => engine.engine.setServerState(service, serverNameFor(id), row.adminState as "ready" | "drain" | "maint"));
      await repo.updateReplica(id, { state: "ready" });
    } catch (e) {
      await this.markFailed(serviceId, id, e);
      throw e;
    } finally {
      this.inflight.delete(id);
      this.deps.queue.kick(serviceId);
    }
  }
}
