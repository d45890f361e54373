import type { Runtime, RuntimeKind, RuntimeReplica } from "@/lib/runtime/types";
import type { ControllerRepository } from "@/lib/controller/repository";
import { STOP_GRACE_MS } from "@/lib/controller/replica-tasks";

/**
 * Replicas of services that no longer exist: the one owner of stopping them, whether the
 * service was just deleted (`stopServiceReplicas`, called by the delete use case once the
 * service is out of the balancer and the database) or deleted while the panel was down
 * (`sweep`, on every resync). Both runtimes list only this panel's replicas: state files
 * under DATA_DIR, containers with its panel id. A replica being stopped is in `inflight`
 * (shared with the replica tasks), so it is never stopped twice.
 */

export type OrphanDeps = {
  repo: Pick<ControllerRepository, "recordEvent">;
  /** null: this runtime cannot be built here (no docker) */
  runtime: (kind: RuntimeKind) => Runtime | null;
  inflight: Set<string>;
};

export const RUNTIME_KINDS = ["process", "docker"] as const;

export class Orphans {
  constructor(private readonly deps: OrphanDeps) {}

  /** Stop, in the background, every replica whose service is not in `known`. */
  async sweep(known: Set<string>): Promise<void> {
    for (const kind of RUNTIME_KINDS) {
      const rt = this.deps.runtime(kind);
      if (!rt) continue;
      const list = await rt.list().catch(() => [] as RuntimeReplica[]);
      for (const r of list) {
        if (known.has(r.serviceId)) continue;
        void this.claim(r, () =>
          this.stopOne(rt, r).then(() =>
            this.deps.repo.recordEvent({ kind: "replica.removed", actor: "controller", replicaId: r.replicaId, message: `removed replica ${r.replicaId} of deleted service ${r.serviceName}` }),
          ),
        );
      }
    }
  }

  /** Stop every replica of a service just deleted (out of the balancer already), then say so in one event. */
  async stopServiceReplicas(service: { id: string; name: string; runtime: RuntimeKind }): Promise<void> {
    const rt = this.deps.runtime(service.runtime);
    const list = rt ? (await rt.list().catch(() => [] as RuntimeReplica[])).filter((r) => r.serviceId === service.id) : [];
    await Promise.all(list.map((r) => this.claim(r, () => this.stopOne(rt!, r))));
    await this.deps.repo.recordEvent({ kind: "service.stopped", actor: "controller", message: `all ${list.length} replicas of deleted service ${service.name} stopped` });
  }

  /** Run `stop` unless another task holds the replica; it holds it until `stop` ends. */
  private async claim(r: RuntimeReplica, stop: () => Promise<unknown>): Promise<void> {
    if (this.deps.inflight.has(r.replicaId)) return;
    this.deps.inflight.add(r.replicaId);
    try {
      await stop();
    } finally {
      this.deps.inflight.delete(r.replicaId);
    }
  }

  private async stopOne(rt: Runtime, r: RuntimeReplica): Promise<void> {
    await rt.stop(r.runtimeRef, STOP_GRACE_MS).catch(() => undefined);
    await rt.remove(r.runtimeRef).catch(() => undefined);
  }
}
