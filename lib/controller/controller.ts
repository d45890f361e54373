import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import { AppError, isAppError } from "@/lib/core/errors";
import { newReplicaId } from "@/lib/core/ids";
import { isLeaving, plan, type ReplicaPhase } from "@/lib/core/plan";
import type { Rules } from "@/lib/core/rules";
import { serverNameFor, type Engine } from "@/lib/engines/types";
import { engine as defaultEngine } from "@/lib/engines/registry";
import type { Runtime, RuntimeKind, RuntimeReplica } from "@/lib/runtime/types";
import { runtimeFor as defaultRuntimeFor } from "@/lib/runtime/registry";
import { balancerServiceOf, currentBalancerConfig, splitAddr, toServer } from "@/lib/db/balancer-config";
import { parseRules, runFieldsOf, runtimeKindOf } from "@/lib/db/rows";
import { SerialQueue } from "@/lib/process/serial-queue";
import { sleep } from "@/lib/process/sleep";
import { waitHealthy } from "@/lib/controller/probe";
import { EngineWatchdog } from "@/lib/controller/engine-watchdog";

/**
 * The reconciling controller. Level-triggered: for each service it compares the
 * desired number of replicas with what the runtime and the database say, and
 * runs the pure plan (lib/core/plan.ts). One reconcile at a time per service;
 * bring-ups and drains run as tracked background tasks; failures are retried
 * with capped backoff and recorded as events. It only touches replicas that
 * carry Switchyard's labels (the runtimes list nothing else).
 */

const RESYNC_MS = 3000;
const BRING_UP_DEADLINE_MS = 30_000;
const STOP_GRACE_MS = 10_000;

type Queue = { running: boolean; again: boolean; failures: number; timer: NodeJS.Timeout | null };

/** Capped exponential backoff: 1 s, 2 s, 4 s ... at most 30 s. */
const backoffMs = (failures: number): number => Math.min(1000 * 2 ** (failures - 1), 30_000);

export type ControllerDeps = {
  engine: () => Engine;
  runtimeFor: (kind: RuntimeKind) => Runtime;
};

export class Controller {
  /** engine membership changes and config applies never interleave */
  readonly engineLock = new SerialQueue();
  private queues = new Map<string, Queue>();
  /** replica ids with a bring-up or drain task in flight */
  private inflight = new Set<string>();
  /** replicas whose drain failed: how often, and when it may be tried again */
  private drainRetries = new Map<string, { failures: number; at: number }>();
  private resyncTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void)[] = [];
  private engineReady = false;
  private engineError: string | null = null;
  private started = false;
  /** stop() was called: no reconcile starts until start() (tasks still finishing must not kick one) */
  private halted = false;
  /** engine changes started under the engine lock whose engine side (a batched reload) may still run */
  private readonly engineChanges = new Set<Promise<void>>();
  /** restarts the engine when it dies (supervised mode), reports it (external mode) */
  readonly watchdog = new EngineWatchdog(this);

  constructor(private deps: ControllerDeps) {}

  get engine(): Engine {
    return this.deps.engine();
  }

  engineState(): { ready: boolean; error: string | null } {
    return { ready: this.engineReady, error: this.engineError };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.halted = false;
    await this.ensureEngine();
    for (const kind of ["process", "docker"] as const) {
      try {
        const rt = this.deps.runtimeFor(kind);
        this.unsubscribe.push(
          rt.onEvent((e) => {
            if (e.kind === "died" || e.kind === "oom") this.kick(e.serviceId);
          }),
        );
      } catch {
        /* a runtime that cannot be built here (no docker) simply sends no events */
      }
    }
    await this.resync();
    this.resyncTimer = setInterval(() => void this.resync(), RESYNC_MS);
    this.resyncTimer.unref();
    this.watchdog.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.halted = true;
    this.watchdog.stop();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const q of this.queues.values()) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = null; // else a kick after start() would wait for a timer that never fires
    }
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  /** The watchdog found the engine down: nothing goes to it until ensureEngine succeeds. */
  engineLost(): void {
    this.engineReady = false;
  }

  /**
   * Start (or adopt) the engine; then make sure it serves exactly the servers the database
   * lists. `restart`: the watchdog found it down at that time (the event says so).
   */
  async ensureEngine(restart?: { downSince: number }): Promise<boolean> {
    if (this.engineReady) return true;
    try {
      await this.engineLock.run(async () => {
        if (this.engineReady) return; // started by another caller while this one waited for the lock
        const config = await currentBalancerConfig();
        await this.engine.start(config);
        const status = await this.engine.status();
        if (status.adopted) {
          const stats = await this.engine.stats();
          const have = new Set(stats.servers.map((s) => `${s.service}/${s.server}`));
          const want = config.services.flatMap((s) => s.servers.map((v) => `${s.name}/${v.name}`));
          const serviceNames = new Set(stats.servers.map((s) => s.service));
          const same = want.length === have.size && want.every((k) => have.has(k)) && config.services.every((s) => s.servers.length === 0 || serviceNames.has(s.name));
          if (!same) {
            const r = await this.engine.apply(this.engine.render(config), config);
            if (!r.ok) throw new AppError("engine_error", r.error);
          }
        }
        const where = `${status.listen.host}:${status.listen.port}`;
        if (restart) {
          const downMs = Date.now() - restart.downSince;
          const what = status.adopted ? "answers again" : "restarted";
          await recordEvent({ kind: "engine.restarted", actor: "controller", message: `${status.kind} ${what} on ${where}, ${downMs} ms after the panel found it down`, data: { downMs, runtimeRef: status.pid === null ? null : String(status.pid) } });
        } else {
          await recordEvent({ kind: status.adopted ? "engine.adopted" : "engine.started", actor: "controller", message: `${status.kind} ${status.adopted ? "adopted (it kept serving while the panel was down)" : "started"} on ${where}` });
        }
        this.engineReady = true;
      });
      this.engineError = null;
      return true;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.engineError) {
        await recordEvent({ kind: "engine.error", level: "error", actor: "controller", message: `the balancer could not start: ${msg}` }).catch(() => undefined);
      }
      this.engineError = msg;
      return false;
    }
  }

  async resync(): Promise<void> {
    if (!this.engineReady) await this.ensureEngine();
    const services = await db().service.findMany({ select: { id: true } });
    const known = new Set(services.map((s) => s.id));
    for (const s of services) this.kick(s.id);
    // Replicas of services that no longer exist (deleted while the panel was down). Both runtimes
    // list only this panel's replicas: state files under DATA_DIR, containers with its panel id.
    for (const kind of ["process", "docker"] as const) {
      const rt = this.safeRuntime(kind);
      if (!rt) continue;
      const list = await rt.list().catch(() => [] as RuntimeReplica[]);
      for (const r of list) {
        if (!known.has(r.serviceId) && !this.inflight.has(r.replicaId)) {
          this.inflight.add(r.replicaId);
          void (async () => {
            try {
              await rt.stop(r.runtimeRef, STOP_GRACE_MS).catch(() => undefined);
              await rt.remove(r.runtimeRef).catch(() => undefined);
              await recordEvent({ kind: "replica.removed", actor: "controller", replicaId: r.replicaId, message: `removed replica ${r.replicaId} of deleted service ${r.serviceName}` });
            } finally {
              this.inflight.delete(r.replicaId);
            }
          })();
        }
      }
    }
  }

  private safeRuntime(kind: RuntimeKind): Runtime | null {
    try {
      return this.deps.runtimeFor(kind);
    } catch {
      return null;
    }
  }

  /** Ask for a reconcile of one service soon (coalesced; one at a time per service). */
  kick(serviceId: string): void {
    if (this.halted) return;
    let q = this.queues.get(serviceId);
    if (!q) {
      q = { running: false, again: false, failures: 0, timer: null };
      this.queues.set(serviceId, q);
    }
    if (q.running) {
      q.again = true;
      return;
    }
    if (q.timer) return; // a backoff is pending; it will run
    void this.run(serviceId, q);
  }

  /** Wait until the service has no reconcile and no task in flight (used by use cases and tests). */
  async settle(serviceId: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const q = this.queues.get(serviceId);
      const rows = await db().replica.findMany({ where: { serviceId }, select: { id: true, state: true } });
      const busy = (q?.running ?? false) || rows.some((r) => this.inflight.has(r.id)) || rows.some((r) => r.state !== "ready");
      if (!busy) return;
      await sleep(100);
    }
  }

  private async run(serviceId: string, q: Queue): Promise<void> {
    q.running = true;
    q.again = false;
    try {
      await this.reconcile(serviceId);
      q.failures = 0;
    } catch (e) {
      q.failures++;
      const delay = backoffMs(q.failures);
      const msg = e instanceof Error ? e.message : String(e);
      await recordEvent({ kind: "controller.retry", level: "warn", actor: "controller", serviceId, message: `reconcile failed (${msg}); retrying in ${Math.round(delay / 1000)} s` }).catch(() => undefined);
      q.timer = setTimeout(() => {
        q.timer = null;
        this.kick(serviceId);
      }, delay);
      q.timer.unref();
    } finally {
      q.running = false;
      if (q.again && !q.timer) this.kick(serviceId);
    }
  }

  async reconcile(serviceId: string): Promise<void> {
    const svc = await db().service.findUnique({ where: { id: serviceId } });
    if (!svc) return;
    const runtime = this.deps.runtimeFor(runtimeKindOf(svc));
    const listed = (await runtime.list()).filter((r) => r.serviceId === serviceId);
    const byId = new Map(listed.map((r) => [r.replicaId, r]));
    let rows = await db().replica.findMany({ where: { serviceId } });

    // Adopt replicas the runtime runs for this service but the database does not know (e.g. a lost
    // database), and finish bring-ups a previous panel process started and did not finish (it was
    // killed between recording the replica and putting it in rotation).
    for (const r of listed) {
      const row = rows.find((x) => x.id === r.replicaId);
      if ((row && row.state !== "starting") || this.inflight.has(r.replicaId) || r.state !== "running") continue;
      const where = { runtimeRef: r.runtimeRef, dataAddr: `${r.dataAddr.host}:${r.dataAddr.port}`, adminAddr: `${r.adminAddr.host}:${r.adminAddr.port}`, startedAt: r.startedAt };
      if (row) await db().replica.update({ where: { id: row.id }, data: where });
      else await db().replica.create({ data: { id: r.replicaId, serviceId, runtime: runtime.kind, state: "starting", ...where } });
      const message = row ? `resuming the bring-up of replica ${r.replicaId} (the panel stopped before it was in rotation)` : `adopted running replica ${r.replicaId}`;
      await recordEvent({ kind: row ? "replica.resumed" : "replica.adopted", actor: "controller", serviceId, replicaId: r.replicaId, message, data: { runtimeRef: r.runtimeRef } });
      this.track(serviceId, r.replicaId, () => this.bringUpExisting(serviceId, r.replicaId));
    }
    rows = await db().replica.findMany({ where: { serviceId } });

    const actual = rows.map((row) => {
      const rt = byId.get(row.id);
      const alive = this.inflight.has(row.id) || (rt !== undefined && rt.state === "running");
      return { id: row.id, state: row.state as ReplicaPhase, alive, createdAt: row.createdAt.getTime() };
    });
    const p = plan(svc.replicas, actual);

    for (const id of p.cleanup) {
      if (this.inflight.has(id)) continue;
      const row = rows.find((r) => r.id === id);
      if (row) this.track(serviceId, id, () => this.cleanup(serviceId, row.id, byId.get(row.id) ?? null));
    }
    for (const id of p.drain) {
      if (this.inflight.has(id)) continue;
      if ((this.drainRetries.get(id)?.at ?? 0) > Date.now()) continue; // its retry timer kicks again
      const leaving = actual.some((a) => a.id === id && isLeaving(a));
      this.track(serviceId, id, () => this.drainAndStop(serviceId, id, leaving ? "retrying a drain that did not finish" : "scale-in"));
    }
    for (let i = 0; i < p.create; i++) {
      const id = newReplicaId();
      await db().replica.create({ data: { id, serviceId, runtime: runtime.kind, state: "starting" } });
      this.track(serviceId, id, () => this.bringUp(serviceId, id));
    }
  }

  private track(serviceId: string, id: string, task: () => Promise<void>): void {
    this.inflight.add(id);
    void task()
      .catch((e) => console.error(`[switchyard] task for replica ${id} failed`, e))
      .finally(async () => {
        this.inflight.delete(id);
        const row = await db().replica.findUnique({ where: { id }, select: { state: true } }).catch(() => null);
        const q = this.queues.get(serviceId);
        if (row?.state === "ready" && q) q.failures = 0;
        const failures = q?.failures ?? 0;
        if (failures > 0 && q && !q.timer) {
          // capped exponential backoff before replacing a replica that failed to come up
          const delay = backoffMs(failures);
          q.timer = setTimeout(() => {
            q.timer = null;
            this.kick(serviceId);
          }, delay);
          q.timer.unref();
        } else this.kick(serviceId);
      });
  }

  private async serviceRules(serviceId: string): Promise<Rules | null> {
    const svc = await db().service.findUnique({ where: { id: serviceId }, select: { rules: true } });
    return svc ? parseRules(svc.rules) : null;
  }

  /** Create a replica, wait until it answers its health check, then put it in rotation. */
  private async bringUp(serviceId: string, id: string): Promise<void> {
    const svc = await db().service.findUnique({ where: { id: serviceId } });
    if (!svc) return;
    const runtime = this.deps.runtimeFor(runtimeKindOf(svc));
    try {
      const rt = await runtime.create({
        serviceId,
        serviceName: svc.name,
        replicaId: id,
        image: svc.image ?? undefined,
        ...runSpecFields(svc),
        dataPort: svc.dataPort,
        adminPort: svc.adminPort,
        adminToken: svc.adminToken,
        memoryLimitMb: svc.memoryLimitMb,
        cpuLimit: svc.cpuLimit,
        allowRoot: svc.allowRoot,
      });
      await db().replica.update({
        where: { id },
        data: { runtimeRef: rt.runtimeRef, dataAddr: `${rt.dataAddr.host}:${rt.dataAddr.port}`, adminAddr: `${rt.adminAddr.host}:${rt.adminAddr.port}`, startedAt: rt.startedAt },
      });
      await recordEvent({ kind: "replica.created", actor: "controller", serviceId, replicaId: id, message: `started replica ${id} (${runtime.kind}) on ${rt.dataAddr.host}:${rt.dataAddr.port}`, data: { runtimeRef: rt.runtimeRef } });
      await this.bringUpExisting(serviceId, id);
    } catch (e) {
      await this.markFailed(serviceId, id, e);
    }
  }

  /** Wait for health, then add to the engine (no reload where the engine allows). */
  private async bringUpExisting(serviceId: string, id: string): Promise<void> {
    try {
      const row = await db().replica.findUnique({ where: { id } });
      const rules = await this.serviceRules(serviceId);
      if (!row || !row.dataAddr || !rules) return;
      const svc = await db().service.findUnique({ where: { id: serviceId } });
      const runtime = this.deps.runtimeFor(runtimeKindOf(svc!));
      const health = await waitHealthy(splitAddr(row.dataAddr), {
        path: rules.healthCheck.path,
        timeoutMs: rules.healthCheck.timeoutMs,
        expectStatus: rules.healthCheck.expectStatus,
        replicaId: id,
        deadlineMs: BRING_UP_DEADLINE_MS,
        isAlive: async () => (row.runtimeRef ? (await runtime.inspect(row.runtimeRef))?.state === "running" : true),
      });
      if (!health.ok) throw new AppError("runtime_error", `replica ${id} did not become healthy: ${health.reason}`);
      await this.waitEngine();
      // The add is started under the engine lock, so engine changes keep the lock's order,
      // and awaited after it: nginx resolves addServer only after its batched reload, and
      // holding the lock across that reload made every bring-up a batch (and a reload) of its own.
      const added: Promise<void>[] = [];
      await this.engineLock.run(async () => {
        const updated = await db().replica.update({ where: { id }, data: { inEngine: true, health: "up", healthReason: health.reason } });
        const service = await balancerServiceOf(serviceId);
        const server = toServer(updated);
        if (service && server) added.push(this.trackEngineChange(this.engine.addServer(service, server)));
      });
      try {
        await Promise.all(added);
      } catch (e) {
        await this.engineLock.run(() => db().replica.update({ where: { id }, data: { inEngine: false } }));
        throw e;
      }
      await db().replica.update({ where: { id }, data: { state: "ready", lastError: null } });
      await recordEvent({ kind: "replica.ready", actor: "controller", serviceId, replicaId: id, message: `replica ${id} is healthy and in rotation` });
    } catch (e) {
      await this.markFailed(serviceId, id, e);
    }
  }

  /** Remembers an engine change started under the engine lock until it has finished (see whenEngineQuiet). */
  private trackEngineChange(change: Promise<void>): Promise<void> {
    this.engineChanges.add(change);
    const done = () => this.engineChanges.delete(change);
    change.then(done, done);
    return change;
  }

  /**
   * Run `fn` under the engine lock once every engine change started before has finished
   * (nginx's batched reload included): nothing is mid-reload, so a status read there is the truth.
   */
  whenEngineQuiet<T>(fn: () => Promise<T>): Promise<T> {
    return this.engineLock.run(async () => {
      await Promise.allSettled([...this.engineChanges]);
      return fn();
    });
  }

  private async waitEngine(): Promise<void> {
    const deadline = Date.now() + BRING_UP_DEADLINE_MS;
    while (!this.engineReady) {
      if (Date.now() > deadline) throw new AppError("engine_error", `the balancer is not running: ${this.engineError ?? "unknown error"}`);
      await this.ensureEngine();
      if (!this.engineReady) await sleep(1000);
    }
  }

  private async markFailed(serviceId: string, id: string, e: unknown): Promise<void> {
    const msg = isAppError(e) || e instanceof Error ? e.message : String(e);
    await db()
      .replica.update({ where: { id }, data: { state: "failed", lastError: msg.slice(0, 2000) } })
      .catch(() => undefined);
    await recordEvent({ kind: "replica.failed", level: "error", actor: "controller", serviceId, replicaId: id, message: `replica ${id} failed: ${msg}` }).catch(() => undefined);
    const q = this.queues.get(serviceId);
    if (q) q.failures++;
  }

  /** A replica that died or failed: out of the engine, out of the runtime, out of the database. */
  private async cleanup(serviceId: string, id: string, rt: RuntimeReplica | null): Promise<void> {
    const row = await db().replica.findUnique({ where: { id } });
    if (!row) return;
    const svc = await db().service.findUnique({ where: { id: serviceId } });
    const runtime = svc ? this.deps.runtimeFor(runtimeKindOf(svc)) : null;
    if (row.inEngine) await this.removeFromEngine(serviceId, id);
    // the runtime may know a replica the database has no ref for (the panel stopped before it recorded one)
    const ref = row.runtimeRef ?? rt?.runtimeRef ?? null;
    if (runtime && ref) {
      await runtime.stop(ref, 2000).catch(() => undefined);
      await runtime.remove(ref).catch(() => undefined);
    }
    await db().replica.delete({ where: { id } }).catch(() => undefined);
    this.drainRetries.delete(id);
    if (row.state === "draining" || row.state === "stopping") {
      await recordEvent({ kind: "replica.stopped", actor: "controller", serviceId, replicaId: id, message: `replica ${id} was leaving and its process is gone: removed` });
    } else if (row.state !== "failed") {
      const why = rt ? (rt.oomKilled ? "killed: out of memory" : `exited with code ${rt.exitCode ?? "?"}`) : "its process is gone";
      await recordEvent({ kind: "replica.died", level: "warn", actor: "controller", serviceId, replicaId: id, message: `replica ${id} died (${why}); a replacement starts` });
    } else {
      await recordEvent({ kind: "replica.removed", actor: "controller", serviceId, replicaId: id, message: `removed failed replica ${id}` });
    }
  }

  /**
   * Out of the engine. `drainLeftMs`: what is left of a drain the caller already waited
   * out; the engine waits at most that long for the last connections (HAProxy: at least
   * a second) instead of a whole drain timeout again.
   */
  private async removeFromEngine(serviceId: string, id: string, opts: { drainLeftMs?: number } = {}): Promise<void> {
    await this.engineLock.run(async () => {
      const service = await balancerServiceOf(serviceId);
      await db().replica.update({ where: { id }, data: { inEngine: false } });
      if (!service || !this.engineReady) return;
      const left = opts.drainLeftMs;
      await this.engine.removeServer(left === undefined ? service : { ...service, rules: { ...service.rules, drainTimeoutMs: left } }, serverNameFor(id));
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
      setTimeout(() => this.kick(serviceId), delay).unref();
      const msg = e instanceof Error ? e.message : String(e);
      await db().replica.update({ where: { id }, data: { lastError: msg.slice(0, 2000) } }).catch(() => undefined);
      await recordEvent({ kind: "replica.drain-failed", level: "warn", actor: "controller", serviceId, replicaId: id, message: `draining replica ${id} failed (${msg}); it stays out of rotation and is retried in ${Math.round(delay / 1000)} s` }).catch(() => undefined);
    }
  }

  private async drainAndStopOnce(serviceId: string, id: string, why: string): Promise<void> {
    const row = await db().replica.update({ where: { id }, data: { state: "draining" } });
    const rules = await this.serviceRules(serviceId);
    const svc = await db().service.findUnique({ where: { id: serviceId } });
    await recordEvent({ kind: "replica.draining", actor: "controller", serviceId, replicaId: id, message: `draining replica ${id} (${why})` });
    // An engine that is down gets no traffic to drain: the replica only leaves its config
    // (removeFromEngine), and an engine restarted from the database no longer lists it.
    if (row.inEngine && this.engineReady) {
      const service = await balancerServiceOf(serviceId);
      if (service) await this.engineLock.run(() => this.engine.setServerState(service, serverNameFor(id), "drain"));
      const deadline = Date.now() + (rules?.drainTimeoutMs ?? 30_000);
      // at least a second in drain: requests dispatched just before the state change finish,
      // and viewers see the replica leave rather than vanish
      await sleep(1000);
      while (Date.now() < deadline) {
        const stats = await this.engine.stats().catch(() => null);
        const mine = stats?.servers.find((s) => s.server === serverNameFor(id));
        if (!mine || mine.activeConnections === 0) break;
        await sleep(250);
      }
      await this.removeFromEngine(serviceId, id, { drainLeftMs: Math.max(0, deadline - Date.now()) });
    } else if (row.inEngine) await this.removeFromEngine(serviceId, id);
    await db().replica.update({ where: { id }, data: { state: "stopping" } });
    if (svc && row.runtimeRef) {
      const runtime = this.deps.runtimeFor(runtimeKindOf(svc));
      await runtime.stop(row.runtimeRef, STOP_GRACE_MS).catch(() => undefined);
      await runtime.remove(row.runtimeRef).catch(() => undefined);
    }
    await db().replica.delete({ where: { id } }).catch(() => undefined);
    await recordEvent({ kind: "replica.stopped", actor: "controller", serviceId, replicaId: id, message: `replica ${id} drained and stopped` });
  }

  /** Used by replica actions: remove this replica (the desired count was already lowered). */
  async removeReplica(serviceId: string, id: string, newDesired: number): Promise<void> {
    if (this.inflight.has(id)) throw new AppError("conflict", `replica ${id} is busy (starting or draining)`);
    this.inflight.add(id);
    // one transaction: no reconcile can see the lower count without this victim already leaving
    await db().$transaction([
      db().service.update({ where: { id: serviceId }, data: { replicas: newDesired } }),
      db().replica.update({ where: { id }, data: { state: "draining" } }),
    ]);
    this.inflight.delete(id);
    this.track(serviceId, id, () => this.drainAndStop(serviceId, id, "removed by a user"));
  }

  /** Restart in place without dropping requests: maint in the engine, restart, wait healthy, back to its admin state. */
  async restartReplica(serviceId: string, id: string): Promise<void> {
    if (this.inflight.has(id)) throw new AppError("conflict", `replica ${id} is busy (starting or draining)`);
    const row = await db().replica.findUnique({ where: { id } });
    const svc = await db().service.findUnique({ where: { id: serviceId } });
    if (!row || !svc || !row.runtimeRef) throw new AppError("not_found", "no such running replica");
    this.inflight.add(id);
    try {
      const runtime = this.deps.runtimeFor(runtimeKindOf(svc));
      const service = await balancerServiceOf(serviceId);
      if (row.inEngine && service && this.engineReady) await this.engineLock.run(() => this.engine.setServerState(service, serverNameFor(id), "maint"));
      await db().replica.update({ where: { id }, data: { state: "starting" } });
      const rt = await runtime.restart(row.runtimeRef);
      await db().replica.update({ where: { id }, data: { runtimeRef: rt.runtimeRef, startedAt: rt.startedAt } });
      const rules = parseRules(svc.rules);
      const health = await waitHealthy(rt.dataAddr, { path: rules.healthCheck.path, timeoutMs: rules.healthCheck.timeoutMs, expectStatus: rules.healthCheck.expectStatus, replicaId: id, deadlineMs: BRING_UP_DEADLINE_MS });
      if (!health.ok) throw new AppError("runtime_error", `replica ${id} did not come back healthy: ${health.reason}`);
      if (row.inEngine && service && this.engineReady) await this.engineLock.run(() => this.engine.setServerState(service, serverNameFor(id), row.adminState as "ready" | "drain" | "maint"));
      await db().replica.update({ where: { id }, data: { state: "ready" } });
    } catch (e) {
      await this.markFailed(serviceId, id, e);
      throw e;
    } finally {
      this.inflight.delete(id);
      this.kick(serviceId);
    }
  }

  isBusy(id: string): boolean {
    return this.inflight.has(id);
  }
}

/** A service row's command and env as a runtime spec takes them (no command: the runtime's default). */
function runSpecFields(svc: { command: string | null; env: string }): { command: string[] | undefined; env: Record<string, string> } {
  const { command, env } = runFieldsOf(svc);
  return { command: command ?? undefined, env };
}

export function controller(): Controller {
  return remember("controller", () => new Controller({ engine: defaultEngine, runtimeFor: defaultRuntimeFor }));
}
