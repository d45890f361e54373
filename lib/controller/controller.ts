import { remember } from "@/lib/remember";
import type { RunningEngine } from "@/lib/engines/types";
import { engine as defaultEngine } from "@/lib/engines/registry";
import type { Runtime, RuntimeKind } from "@/lib/runtime/types";
import { clusterFor, onDiscoveredChange, runtimeFor as defaultRuntimeFor, runtimeOfService, swarmBalancer } from "@/lib/runtime/registry";
import { isClusterRuntime, type ClusterBalancer, type ClusterKind, type ClusterRuntime, type ClusterServiceStatus } from "@/lib/runtime/cluster";
import { followClusterRollout } from "@/lib/rollout/cluster-rollout";
import { ClusterSync } from "@/lib/controller/cluster-sync";
import { clusterFronts, type ClusterFront } from "@/lib/runtime/cluster-front";
import { engineError } from "@/lib/engines/errors";
import type { SerialQueue } from "@/lib/process/serial-queue";
import { EngineSupervisor } from "@/lib/controller/engine-supervisor";
import type { EngineWatchdog } from "@/lib/controller/engine-watchdog";
import { Orphans, RUNTIME_KINDS } from "@/lib/controller/orphans";
import { Reconciler } from "@/lib/controller/reconciler";
import { prismaRepository, type ControllerRepository, type ServiceRecord } from "@/lib/controller/repository";
import type { WaitHealthy } from "@/lib/controller/replica-tasks";
import type { Timers } from "@/lib/controller/work-queue";
import { faultStore } from "@/lib/faults/store";

/**
 * The controller, assembled from its parts:
 *   engine-supervisor.ts  the engine started or adopted, its lock, its watchdog
 *   reconciler.ts         plan() per service, through the work queue (work-queue.ts)
 *   replica-tasks.ts      bring up, drain and stop, clean up, restart one replica
 *   orphans.ts            replicas of deleted services
 *   repository.ts         the rows all of them read and write (the database, or a fake)
 * This file starts and stops them: the resync timer, the runtimes' events, the watchdog.
 */

const RESYNC_MS = 3000;
/** every this many resyncs (the first one included), the clusters are swept for what deleted services left */
const CLUSTER_SWEEP_EVERY = 5;

export type ControllerDeps = {
  engine: () => RunningEngine;
  runtimeFor: (kind: RuntimeKind) => Runtime;
  /** the runtime a service's instances are in (external endpoints, discovered containers); default: runtimeFor(svc.runtime) */
  runtimeOf?: (svc: ServiceRecord) => Runtime;
  /** containers started or gone that a discovering service may adopt or lose: reconcile every service */
  onInstancesChanged?: (listener: () => void) => () => void;
  /** default: the database */
  repository?: ControllerRepository;
  /** the service-level runtimes (swarm): a service of such a runtime is scaled as one and followed (cluster-sync.ts) */
  clusterFor?: (kind: ClusterKind) => ClusterRuntime;
  /** the balancer a cluster service gets inside the cluster; default none */
  clusterBalancerFor?: (kind: ClusterKind) => ClusterBalancer | null;
  /** where those balancers answer, which the panel's engine forwards to (lib/runtime/cluster-front.ts); default none */
  clusterFronts?: Map<string, ClusterFront>;
  /** a cluster's word on a rolling update, for the service's rollout row; default none */
  followClusterRollout?: (serviceId: string, update: ClusterServiceStatus["update"]) => Promise<void>;
  /** default: probe over HTTP */
  waitHealthy?: WaitHealthy;
  sleep?: (ms: number) => Promise<void>;
  timers?: Timers;
  /** the fault store (lib/faults/store.ts): its faults are found again at start and expired while the controller runs; default none */
  faults?: { start(): Promise<void>; stop(): void };
};

export class Controller {
  private readonly supervisor: EngineSupervisor;
  private readonly reconciler: Reconciler;
  private readonly orphans: Orphans;
  private readonly repo: ControllerRepository;
  private resyncTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void)[] = [];
  private started = false;
  private resyncs = 0;

  constructor(private readonly deps: ControllerDeps) {
    this.repo = deps.repository ?? prismaRepository;
    this.supervisor = new EngineSupervisor({ engine: deps.engine, repo: this.repo });
    const clusterFor = deps.clusterFor;
    const cluster = clusterFor
      ? new ClusterSync({
          repo: this.repo,
          clusterFor: (svc) => clusterFor(svc.runtime as ClusterKind),
          balancerFor: (svc) => deps.clusterBalancerFor?.(svc.runtime as ClusterKind) ?? null,
          fronts: deps.clusterFronts,
          applyEngine: () => this.applyEngineConfig(),
          followRollout: deps.followClusterRollout,
        })
      : undefined;
    this.reconciler = new Reconciler({ cluster, repo: this.repo, runtimeFor: deps.runtimeFor, runtimeOf: deps.runtimeOf, engine: this.supervisor, waitHealthy: deps.waitHealthy, sleep: deps.sleep, timers: deps.timers });
    this.orphans = new Orphans({ repo: this.repo, runtime: (kind) => this.safeRuntime(kind), inflight: this.reconciler.tasks.inflight });
  }

  get engine(): RunningEngine {
    return this.supervisor.engine;
  }

  /** engine membership changes and config applies never interleave */
  get engineLock(): SerialQueue {
    return this.supervisor.lock;
  }

  /** restarts the engine when it dies (supervised mode), reports it (external mode) */
  get watchdog(): EngineWatchdog {
    return this.supervisor.watchdog;
  }

  engineState(): { ready: boolean; error: string | null } {
    return this.supervisor.engineState();
  }

  ensureEngine(restart?: { downSince: number }): Promise<boolean> {
    return this.supervisor.ensureEngine(restart);
  }

  whenEngineQuiet<T>(fn: () => Promise<T>): Promise<T> {
    return this.supervisor.whenEngineQuiet(fn);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.reconciler.queue.resume();
    await this.supervisor.ensureEngine();
    for (const kind of RUNTIME_KINDS) {
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
    if (this.deps.onInstancesChanged) {
      // one Docker event can concern any discovering service: reconcile each (each one lists its own)
      this.unsubscribe.push(this.deps.onInstancesChanged(() => void this.repo.serviceIds().then((ids) => ids.forEach((id) => this.kick(id)), () => undefined)));
    }
    await this.resync();
    // faults left by a panel that stopped: undone when their time ran out meanwhile, else held again
    await this.deps.faults?.start();
    this.resyncTimer = setInterval(() => void this.resync(), RESYNC_MS);
    this.resyncTimer.unref();
    this.supervisor.watchdog.start();
  }

  /** No reconcile starts until start() again (tasks still finishing must not kick one). */
  async stop(): Promise<void> {
    this.started = false;
    this.reconciler.queue.halt();
    this.supervisor.watchdog.stop();
    this.deps.faults?.stop();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  /** Every service reconciled; replicas of services that no longer exist (deleted while the panel was down) stopped. */
  async resync(): Promise<void> {
    if (!this.supervisor.ready) await this.supervisor.ensureEngine();
    const ids = await this.repo.serviceIds();
    for (const id of ids) this.kick(id);
    await this.orphans.sweep(new Set(ids));
    if (this.resyncs++ % CLUSTER_SWEEP_EVERY === 0) await this.sweepClusters();
  }

  /** What the panel made in a cluster (Swarm services, their balancers and configs) for services whose row is gone, removed. */
  private async sweepClusters(): Promise<void> {
    const clusterFor = this.deps.clusterFor;
    if (!clusterFor) return;
    for (const kind of ["swarm", "kubernetes"] as const) {
      let cluster: ClusterRuntime;
      try {
        cluster = clusterFor(kind);
      } catch {
        continue; // not configured here
      }
      if (!cluster.sweepOrphans) continue;
      try {
        const removed = await cluster.sweepOrphans(async (id) => (await this.repo.service(id)) !== null);
        for (const name of removed) await this.repo.recordEvent({ kind: "service.stopped", actor: "controller", message: `${kind} service ${name} removed (with its configs): the panel service it was made for no longer exists` });
      } catch (e) {
        await this.repo.recordEvent({ kind: "service.stopped", level: "warn", actor: "controller", message: `could not sweep the ${kind} services of deleted services: ${e instanceof Error ? e.message : String(e)}` }).catch(() => undefined);
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
    this.reconciler.kick(serviceId);
  }

  /** Wait until the service has no reconcile and no task in flight (used by use cases and tests). */
  settle(serviceId: string, timeoutMs?: number): Promise<void> {
    return this.reconciler.settle(serviceId, timeoutMs);
  }

  /** Used by replica actions: remove this replica (the desired count is lowered with it). */
  removeReplica(serviceId: string, id: string, newDesired: number): Promise<void> {
    return this.reconciler.tasks.removeReplica(serviceId, id, newDesired);
  }

  /** Restart in place without dropping requests: maint in the engine, restart, wait healthy, back to its admin state. */
  restartReplica(serviceId: string, id: string): Promise<void> {
    return this.reconciler.tasks.restartReplica(serviceId, id);
  }

  /** The delete use case: stop every replica of a service it has just taken out of the balancer and the database. */
  stopServiceReplicas(service: { id: string; name: string; runtime: RuntimeKind }): Promise<void> {
    if (isClusterRuntime(service.runtime) && this.deps.clusterFor) return this.removeClusterService(service, this.deps.clusterFor(service.runtime));
    return this.orphans.stopServiceReplicas(service);
  }

  /** A deleted cluster service: the cluster's service and its balancer removed (the cluster stops the tasks). */
  private async removeClusterService(service: { id: string; name: string; runtime: RuntimeKind }, cluster: ClusterRuntime): Promise<void> {
    try {
      this.deps.clusterFronts?.delete(service.id);
      await cluster.removeService(service.id);
      await this.repo.recordEvent({ kind: "service.stopped", actor: "controller", message: `${cluster.kind} service of deleted service ${service.name} and its balancer removed` });
    } catch (e) {
      await this.repo.recordEvent({ kind: "service.stopped", level: "error", actor: "controller", message: `could not remove the ${cluster.kind} service of deleted service ${service.name}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  /** The engine given the whole config the database (and the cluster fronts) say; nothing before it runs (its start reads the same). */
  private async applyEngineConfig(): Promise<void> {
    if (!this.supervisor.ready) return;
    await this.supervisor.lock.run(async () => {
      const config = await this.repo.balancerConfig();
      const r = await this.supervisor.engine.apply(this.supervisor.engine.render(config), config);
      if (!r.ok) throw engineError(r);
    });
  }

  isBusy(id: string): boolean {
    return this.reconciler.tasks.isBusy(id);
  }
}

export function controller(): Controller {
  return remember(
    "controller",
    () =>
      new Controller({
        engine: defaultEngine,
        runtimeFor: defaultRuntimeFor,
        runtimeOf: runtimeOfService,
        onInstancesChanged: onDiscoveredChange,
        faults: faultStore(),
        clusterFor,
        clusterBalancerFor: (kind) => (kind === "swarm" ? swarmBalancer() : null),
        clusterFronts: clusterFronts(),
        followClusterRollout,
      }),
  );
}
