import { newReplicaId } from "@/lib/core/ids";
import { isLeaving, plan } from "@/lib/core/plan";
import type { Runtime, RuntimeKind } from "@/lib/runtime/types";
import { sleep as realSleep } from "@/lib/process/sleep";
import { waitHealthy as probeUntilHealthy } from "@/lib/controller/probe";
import { nodeTimers, WorkQueue, type Timers } from "@/lib/controller/work-queue";
import { ReplicaTasks, type WaitHealthy } from "@/lib/controller/replica-tasks";
import type { EngineSupervisor } from "@/lib/controller/engine-supervisor";
import type { ControllerRepository, ReplicaRecord, ServiceRecord } from "@/lib/controller/repository";
import { backoffMs } from "@/lib/controller/work-queue";
import type { ClusterSync } from "@/lib/controller/cluster-sync";
import { isClusterRuntime } from "@/lib/runtime/cluster";

/**
 * The reconciler. Level-triggered: for one service it compares the desired number of
 * replicas with what the runtime lists and the database records, runs the pure plan
 * (lib/core/plan.ts) and hands each step to a replica task. One reconcile at a time per
 * service (the work queue); a failed reconcile is retried with capped backoff and
 * recorded as an event. It only touches replicas that carry Switchyard's labels (the
 * runtimes list nothing else). Everything it touches is a port, so it runs as well
 * against in-memory fakes (tests/unit/reconciler.test.ts) as against the real things.
 */

export type ReconcilerDeps = {
  /** services whose runtime is a cluster (swarm): scaled as one and followed (cluster-sync.ts) */
  cluster?: ClusterSync;
  repo: ControllerRepository;
  runtimeFor: (kind: RuntimeKind) => Runtime;
  /** the runtime a service's instances are in (lib/runtime/registry.ts runtimeOfService); default: runtimeFor(svc.runtime) */
  runtimeOf?: (svc: ServiceRecord) => Runtime;
  engine: EngineSupervisor;
  /** default: probe the replica's health path over HTTP */
  waitHealthy?: WaitHealthy;
  /** the pauses of a drain; default: real time */
  sleep?: (ms: number) => Promise<void>;
  /** the backoff timers; default: node's */
  timers?: Timers;
};

export class Reconciler {
  readonly queue: WorkQueue;
  readonly tasks: ReplicaTasks;
  private readonly repo: ControllerRepository;
  /** listed instances whose bring-up failed: how often, and when they are tried again */
  private readonly listedRetries = new Map<string, { failures: number; at: number }>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.repo = deps.repo;
    this.queue = new WorkQueue(
      (serviceId) => this.reconcile(serviceId),
      (serviceId, e, delay) => {
        const msg = e instanceof Error ? e.message : String(e);
        return this.repo.recordEvent({ kind: "controller.retry", level: "warn", actor: "controller", serviceId, message: `reconcile failed (${msg}); retrying in ${Math.round(delay / 1000)} s` }).then(() => undefined);
      },
      deps.timers ?? nodeTimers,
    );
    this.tasks = new ReplicaTasks({ repo: deps.repo, runtimeFor: deps.runtimeFor, runtimeOf: deps.runtimeOf, engine: deps.engine, queue: this.queue, waitHealthy: deps.waitHealthy ?? probeUntilHealthy, sleep: deps.sleep ?? realSleep });
  }

  /** Ask for a reconcile of one service soon (coalesced; one at a time per service). */
  kick(serviceId: string): void {
    this.queue.kick(serviceId);
  }

  /** Wait until the service has no reconcile and no task in flight (used by use cases and tests). */
  async settle(serviceId: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const rows = await this.repo.replicas(serviceId);
      const busy = this.queue.isRunning(serviceId) || rows.some((r) => this.tasks.isBusy(r.id)) || rows.some((r) => r.state !== "ready");
      if (!busy) return;
      await realSleep(100);
    }
  }

  async reconcile(serviceId: string): Promise<void> {
    const { repo, tasks } = this;
    const svc = await repo.service(serviceId);
    if (!svc) return;
    if (isClusterRuntime(svc.runtime)) {
      if (!this.deps.cluster) throw new Error(`no cluster path in this controller for runtime ${svc.runtime}`);
      return this.deps.cluster.reconcile(svc);
    }
    const runtime = tasks.runtimeOf(svc);
    const listed = (await runtime.list()).filter((r) => r.serviceId === serviceId);
    const byId = new Map(listed.map((r) => [r.replicaId, r]));
    let rows = await repo.replicas(serviceId);

    // Adopt replicas the runtime runs for this service but the database does not know (e.g. a lost
    // database), and finish bring-ups a previous panel process started and did not finish (it was
    // killed between recording the replica and putting it in rotation).
    for (const r of listed) {
      const row = rows.find((x) => x.id === r.replicaId);
      if ((row && row.state !== "starting") || tasks.isBusy(r.replicaId) || r.state !== "running") continue;
      const where = { runtimeRef: r.runtimeRef, dataAddr: `${r.dataAddr.host}:${r.dataAddr.port}`, adminAddr: `${r.adminAddr.host}:${r.adminAddr.port}`, startedAt: r.startedAt };
      if (row) await repo.updateReplica(row.id, where);
      else await repo.createReplica({ id: r.replicaId, serviceId, runtime: runtime.kind, state: "starting", ...where });
      const what = svc.source?.kind === "external" ? `endpoint ${where.dataAddr}` : svc.source ? `container ${r.runtimeRef.slice(0, 12)} at ${where.dataAddr}` : "running replica";
      const message = row ? `resuming the bring-up of replica ${r.replicaId} (the panel stopped before it was in rotation)` : `adopted ${what} as replica ${r.replicaId}`;
      await repo.recordEvent({ kind: row ? "replica.resumed" : "replica.adopted", actor: "controller", serviceId, replicaId: r.replicaId, message, data: { runtimeRef: r.runtimeRef } });
      tasks.track(serviceId, r.replicaId, () => tasks.bringUpExisting(serviceId, r.replicaId));
    }
    rows = await repo.replicas(serviceId);
    if (svc.source) return this.followListed(svc, rows, byId);

    const actual = rows.map((row) => {
      const rt = byId.get(row.id);
      const alive = tasks.isBusy(row.id) || (rt !== undefined && rt.state === "running");
      return { id: row.id, state: row.state, alive, createdAt: row.createdAt.getTime(), version: row.version ?? null };
    });
    // A rollout (lib/rollout) keeps so many of the new version and so many of the rest: one plan per version.
    const groups = svc.rollout
      ? [
          { desired: svc.rollout.newDesired, version: svc.rollout.toVersion, weight: svc.rollout.newWeight, actual: actual.filter((a) => a.version === svc.rollout!.toVersion) },
          { desired: svc.rollout.oldDesired, version: svc.rollout.fromVersion, weight: svc.rollout.oldWeight, actual: actual.filter((a) => a.version !== svc.rollout!.toVersion) },
        ]
      : [{ desired: svc.desired, version: svc.version ?? null, weight: undefined, actual }];
    for (const g of groups) await this.follow(svc.id, runtime.kind, rows, byId, actual, plan(g.desired, g.actual), { version: g.version, weight: g.weight });
  }

  private async follow(
    serviceId: string,
    kind: RuntimeKind,
    rows: Awaited<ReturnType<ControllerRepository["replicas"]>>,
    byId: Map<string, Awaited<ReturnType<Runtime["list"]>>[number]>,
    actual: { id: string; state: ReplicaRecord["state"] }[],
    p: ReturnType<typeof plan>,
    created: { version: string | null; weight: number | undefined },
  ): Promise<void> {
    const { repo, tasks } = this;

    for (const id of p.cleanup) {
      if (tasks.isBusy(id)) continue;
      const row = rows.find((r) => r.id === id);
      if (row) tasks.track(serviceId, id, () => tasks.cleanup(serviceId, row.id, byId.get(row.id) ?? null));
    }
    for (const id of p.drain) {
      if (tasks.isBusy(id)) continue;
      if (tasks.drainRetryPending(id)) continue; // its retry timer kicks again
      const leaving = actual.some((a) => a.id === id && isLeaving(a));
      tasks.track(serviceId, id, () => tasks.drainAndStop(serviceId, id, leaving ? "retrying a drain that did not finish" : "scale-in"));
    }
    for (let i = 0; i < p.create; i++) {
      const id = newReplicaId();
      await repo.createReplica({ id, serviceId, runtime: kind, state: "starting", ...(created.version ? { version: created.version } : {}), ...(created.weight !== undefined ? { weight: created.weight } : {}) });
      tasks.track(serviceId, id, () => tasks.bringUp(serviceId, id));
    }
  }

  /**
   * A service whose instances the panel did not start (external endpoints, discovered
   * containers) has no count to plan: its instances are what the source lists. New ones
   * were adopted above; one no longer listed is drained out of the engine and let go of
   * (never stopped or removed); one whose bring-up failed (not healthy within the
   * deadline) stays, out of rotation, and is tried again after a capped backoff.
   */
  private followListed(svc: ServiceRecord, rows: Awaited<ReturnType<ControllerRepository["replicas"]>>, listed: Map<string, { state: string }>): void {
    const { tasks } = this;
    for (const row of rows) {
      if (tasks.isBusy(row.id)) continue;
      const here = listed.get(row.id)?.state === "running";
      if (!here) {
        if (tasks.drainRetryPending(row.id)) continue;
        this.listedRetries.delete(row.id);
        const why = svc.source?.kind === "external" ? "no longer in the endpoints" : "its container stopped or no longer matches";
        tasks.track(svc.id, row.id, () => tasks.drainAndStop(svc.id, row.id, why));
      } else if (row.state === "failed") {
        const retry = this.listedRetries.get(row.id) ?? { failures: 0, at: 0 };
        if (retry.at > Date.now()) continue;
        const failures = retry.failures + 1;
        this.listedRetries.set(row.id, { failures, at: Date.now() + backoffMs(failures) });
        tasks.track(svc.id, row.id, () => tasks.bringUpExisting(svc.id, row.id));
      } else if (row.state === "ready") this.listedRetries.delete(row.id);
    }
  }
}
