import type { ClusterBalancer, ClusterMember, ClusterRuntime, ClusterServiceStatus } from "@/lib/runtime/cluster";
import type { ClusterFront } from "@/lib/runtime/cluster-front";
import type { ControllerRepository, ReplicaRecord, ServiceRecord } from "@/lib/controller/repository";
import type { ReplicaPhase } from "@/lib/core/plan";

/**
 * The controller's service-level path (runtimes "swarm" and "kubernetes", `isClusterRuntime`): the cluster runs
 * the replicas, the panel sets their count and follows them.
 *
 * One reconcile: the cluster service exists (created with the desired count), its count is the
 * desired one (scaled when not), its balancer runs with the service's rules, and the replica rows
 * are the members the cluster reports: a new member gets a row (event "started on <node>", or
 * "moved" when it replaces a member of the same slot that ran on another node), a member gone
 * loses its row, a failed one is reported once with the cluster's own error. The rows are never
 * in the panel's own engine (`inEngine` stays false): the cluster's balancer serves them.
 */

export type ClusterSyncDeps = {
  repo: ControllerRepository;
  clusterFor: (svc: ServiceRecord) => ClusterRuntime;
  balancerFor?: (svc: ServiceRecord) => ClusterBalancer | null;
  /** where each cluster service's own balancer answers (lib/runtime/cluster-front.ts): the panel's engine forwards there */
  fronts?: Map<string, ClusterFront>;
  /** re-apply the panel engine's whole config (a front learned or moved) */
  applyEngine?: () => Promise<void>;
  /** the cluster's word on a rolling update, for the service's rollout row (lib/rollout/cluster-rollout.ts) */
  followRollout?: (serviceId: string, update: ClusterServiceStatus["update"]) => Promise<void>;
};

const phaseOf = (m: ClusterMember): ReplicaPhase => (m.state === "running" ? (m.ready ? "ready" : "starting") : m.state === "stopping" ? "draining" : m.state === "failed" ? "failed" : "starting");
const addr = (a: { host: string; port: number } | null) => (a ? `${a.host}:${a.port}` : null);

export class ClusterSync {
  /** failed members already reported (their error once, not on every resync) */
  private readonly reportedFailures = new Set<string>();
  /** where each member ran (slot → node), to tell "moved" from "started" */
  private readonly lastNodeOfSlot = new Map<string, string>();
  /** member id → its slot key, for rows whose member is gone */
  private readonly slotOfId = new Map<string, string>();

  constructor(private readonly deps: ClusterSyncDeps) {}

  async reconcile(svc: ServiceRecord): Promise<void> {
    const { repo } = this.deps;
    const cluster = this.deps.clusterFor(svc);
    const spec = await repo.replicaSpec(svc.id, `${svc.name}-cluster`);
    if (!spec) return;
    const { replicaId: _unused, ...rest } = spec;
    const made = await cluster.ensureService({ ...rest, replicas: svc.desired });
    if (made.created) await repo.recordEvent({ kind: "service.scaled", actor: "controller", serviceId: svc.id, message: `${cluster.kind} service ${made.name} created with ${svc.desired} replicas` });
    else {
      const status = await cluster.status(svc.id);
      await this.deps.followRollout?.(svc.id, status.update);
      if (status.desired !== null && status.desired !== svc.desired) {
        const r = await cluster.scale(svc.id, svc.desired);
        await repo.recordEvent({
          kind: "service.scaled",
          actor: "controller",
          serviceId: svc.id,
          message: `${cluster.kind} service ${made.name} scaled ${status.desired} → ${svc.desired}${r.attempts > 1 ? ` (${r.attempts} attempts: the version read was stale)` : ""}`,
          data: { from: status.desired, to: svc.desired, attempts: r.attempts },
        });
      }
    }

    const balancer = this.deps.balancerFor?.(svc) ?? null;
    let relay: string | null = null;
    if (balancer) {
      const rules = await repo.rules(svc.id);
      if (rules) {
        const b = await balancer.ensure(svc.id, rules);
        if (b.created || b.updated)
          await repo.recordEvent({ kind: "rules.applied", actor: "controller", serviceId: svc.id, message: `${cluster.kind} balancer ${b.created ? "created" : "updated with the service's rules"}, answering on ${b.host ?? "(its node)"}:${b.dataPort}` });
        if (b.host && b.adminPort) relay = `${b.host}:${b.adminPort}`;
        if (b.host) await this.front(svc, cluster.kind, { host: b.host, port: b.dataPort });
      }
    }

    await this.follow(svc, await cluster.members(svc.id), relay);
  }

  /** The panel's listener forwards the service to its balancer in the cluster: the engine re-applied when that address is new or moved. */
  private async front(svc: ServiceRecord, kind: string, at: ClusterFront): Promise<void> {
    const { fronts, applyEngine } = this.deps;
    if (!fronts) return;
    const before = fronts.get(svc.id);
    if (before && before.host === at.host && before.port === at.port) return;
    fronts.set(svc.id, at);
    try {
      await applyEngine?.();
    } catch (e) {
      // tried again on the next reconcile
      if (before) fronts.set(svc.id, before);
      else fronts.delete(svc.id);
      throw e;
    }
    await this.deps.repo.recordEvent({
      kind: "rules.applied",
      actor: "controller",
      serviceId: svc.id,
      message: `the panel's listener forwards ${svc.name} to its ${kind} balancer at ${at.host}:${at.port}${before ? ` (was ${before.host}:${before.port})` : ""}, which balances across the tasks`,
    });
  }

  /** The rows follow the members. `relay`: the management listener's address (adminAddr of every row), else the member's own. */
  private async follow(svc: ServiceRecord, members: ClusterMember[], relay: string | null): Promise<void> {
    const { repo } = this.deps;
    const rows = await repo.replicas(svc.id);
    const byId = new Map<string, ReplicaRecord>(rows.map((r) => [r.id, r]));
    const live = members.filter((m) => m.state !== "failed");
    const liveIds = new Set(live.map((m) => m.id));

    for (const m of members.filter((x) => x.state === "failed")) {
      if (this.reportedFailures.has(m.ref)) continue;
      this.reportedFailures.add(m.ref);
      await repo.recordEvent({
        kind: "replica.failed",
        level: "error",
        actor: "controller",
        serviceId: svc.id,
        replicaId: m.id,
        message: `task ${m.id}${m.node ? ` on ${m.node}` : ""} failed: ${m.error ?? "no reason given"}`,
        data: { ref: m.ref, node: m.node, slot: m.slot },
      });
    }

    for (const row of rows) {
      if (liveIds.has(row.id)) continue;
      await repo.deleteReplica(row.id);
      const slotKey = this.slotOfId.get(row.id);
      this.slotOfId.delete(row.id);
      const replaced = slotKey !== undefined && live.some((m) => `${svc.id}/${m.slot ?? m.id}` === slotKey);
      if (!replaced) await repo.recordEvent({ kind: "replica.stopped", actor: "controller", serviceId: svc.id, replicaId: row.id, message: `task ${row.id} is gone (${svc.runtime} stopped it or its node went away)` });
    }

    for (const m of live) {
      const slotKey = `${svc.id}/${m.slot ?? m.id}`;
      const patch = {
        state: phaseOf(m),
        runtimeRef: m.ref,
        dataAddr: addr(m.dataAddr) ?? undefined,
        adminAddr: (relay && m.dataAddr ? relay : addr(m.adminAddr)) ?? undefined,
        startedAt: m.startedAt,
      };
      const row = byId.get(m.id);
      this.slotOfId.set(m.id, slotKey);
      if (!row) {
        await repo.createReplica({ id: m.id, serviceId: svc.id, runtime: svc.runtime, ...patch });
        const before = this.lastNodeOfSlot.get(slotKey);
        const moved = before !== undefined && m.node !== null && before !== m.node;
        await repo.recordEvent({
          kind: moved ? "replica.moved" : "replica.created",
          actor: "controller",
          serviceId: svc.id,
          replicaId: m.id,
          message: moved ? `slot ${m.slot} moved from ${before} to ${m.node} (task ${m.id})` : `task ${m.id} started${m.node ? ` on ${m.node}` : ""}`,
          data: { ref: m.ref, node: m.node, slot: m.slot, container: m.containerId },
        });
      } else if (row.state !== patch.state || row.dataAddr !== (patch.dataAddr ?? null) || row.runtimeRef !== patch.runtimeRef || (row.adminAddr !== undefined && row.adminAddr !== (patch.adminAddr ?? null))) {
        await repo.updateReplica(m.id, patch);
        if (patch.state === "ready" && row.state !== "ready") await repo.recordEvent({ kind: "replica.ready", actor: "controller", serviceId: svc.id, replicaId: m.id, message: `task ${m.id} running at ${patch.dataAddr}${m.node ? ` on ${m.node}` : ""}` });
      }
      if (m.node) this.lastNodeOfSlot.set(slotKey, m.node);
    }
  }
}
