import { db } from "@/lib/db/client";
import { recordEvent, type NewEvent } from "@/lib/events";
import type { ReplicaPhase } from "@/lib/core/plan";
import type { Rules } from "@/lib/core/rules";
import type { BalancerConfig, BalancerService } from "@/lib/engines/types";
import type { ReplicaSpec, RuntimeKind } from "@/lib/runtime/types";
import { balancerServiceOf, currentBalancerConfig } from "@/lib/db/balancer-config";
import { instanceSourceOf, memoryThresholdOf, parseRules, runFieldsOf, runtimeKindOf } from "@/lib/db/rows";
import type { InstanceSource } from "@/lib/core/service";
import { specVersion } from "@/lib/core/rollout";
import { rolloutCountsOf, rolloutSpecOf } from "@/lib/rollout/store";

/**
 * The rows the controller reads and writes, behind one small port: a service's desired
 * state, its replica rows, the balancer configuration they make, and events. The panel
 * uses `prismaRepository` (the database); tests hand the controller's parts an in-memory
 * one (tests/unit/reconciler.test.ts).
 */

/**
 * What the controller knows of a service: its desired count and where its replicas run;
 * `source` when the panel starts none (external endpoints, discovered containers): the
 * instances are then whatever that source lists, and `desired` means nothing.
 */
export type ServiceRecord = {
  id: string;
  name: string;
  desired: number;
  runtime: RuntimeKind;
  source?: InstanceSource | null;
  /** the spec hash of what its replicas run (Replica.version of the new ones) */
  version?: string;
  /** a rollout in progress (lib/rollout): it owns the counts of each version; `desired` then means nothing */
  rollout?: RolloutCounts | null;
};

/** What a rollout asks the reconciler for: so many replicas of the new version, so many of the rest (the old one), created with these weights. */
export type RolloutCounts = { fromVersion: string; toVersion: string; oldDesired: number; newDesired: number; oldWeight: number; newWeight: number };

export type ReplicaRecord = {
  id: string;
  serviceId: string;
  state: ReplicaPhase;
  adminState: string;
  weight: number;
  inEngine: boolean;
  runtimeRef: string | null;
  dataAddr: string | null;
  adminAddr?: string | null;
  version?: string | null;
  createdAt: Date;
};

/** The columns the controller changes on a replica row. */
export type ReplicaPatch = Partial<{
  state: ReplicaPhase;
  runtimeRef: string;
  dataAddr: string;
  adminAddr: string;
  startedAt: Date;
  inEngine: boolean;
  health: string;
  healthReason: string | null;
  lastError: string | null;
}>;

export type NewReplica = { id: string; serviceId: string; runtime: RuntimeKind; state: ReplicaPhase; version?: string | null; weight?: number } & Pick<ReplicaPatch, "runtimeRef" | "dataAddr" | "adminAddr" | "startedAt">;

export interface ControllerRepository {
  serviceIds(): Promise<string[]>;
  service(id: string): Promise<ServiceRecord | null>;
  /** the service's rules (null: no such service) */
  rules(serviceId: string): Promise<Rules | null>;
  /** what the runtime needs to create replica `replicaId` of the service (null: no such service) */
  replicaSpec(serviceId: string, replicaId: string): Promise<ReplicaSpec | null>;
  replicas(serviceId: string): Promise<ReplicaRecord[]>;
  replica(id: string): Promise<ReplicaRecord | null>;
  createReplica(row: NewReplica): Promise<void>;
  updateReplica(id: string, patch: ReplicaPatch): Promise<ReplicaRecord>;
  deleteReplica(id: string): Promise<void>;
  /** One transaction: the desired count lowered and the victim leaving (no reconcile sees one without the other). */
  lowerDesiredAndDrain(serviceId: string, replicaId: string, desired: number): Promise<void>;
  /** the service as the engine serves it: its rules and the replicas in the engine */
  balancerService(serviceId: string): Promise<BalancerService | null>;
  /** the whole balancer configuration the database says should run */
  balancerConfig(): Promise<BalancerConfig>;
  recordEvent(e: NewEvent): Promise<unknown>;
}

type ReplicaRow = { id: string; serviceId: string; state: string; adminState: string; weight: number; inEngine: boolean; runtimeRef: string | null; dataAddr: string | null; adminAddr: string | null; version: string | null; createdAt: Date };

const toRecord = (r: ReplicaRow): ReplicaRecord => ({
  id: r.id,
  serviceId: r.serviceId,
  state: r.state as ReplicaPhase,
  adminState: r.adminState,
  weight: r.weight,
  inEngine: r.inEngine,
  runtimeRef: r.runtimeRef,
  dataAddr: r.dataAddr,
  adminAddr: r.adminAddr,
  version: r.version,
  createdAt: r.createdAt,
});

export const prismaRepository: ControllerRepository = {
  async serviceIds() {
    return (await db().service.findMany({ select: { id: true } })).map((s) => s.id);
  },
  async service(id) {
    const svc = await db().service.findUnique({ where: { id }, select: { id: true, name: true, replicas: true, runtime: true, dataPort: true, endpoints: true, discover: true, image: true, command: true, env: true } });
    if (!svc) return null;
    return { id: svc.id, name: svc.name, desired: svc.replicas, runtime: runtimeKindOf(svc), source: instanceSourceOf(svc), version: specVersion({ image: svc.image, ...runFieldsOf(svc) }), rollout: await rolloutCountsOf(id) };
  },
  async rules(serviceId) {
    const svc = await db().service.findUnique({ where: { id: serviceId }, select: { rules: true } });
    return svc ? parseRules(svc.rules) : null;
  },
  async replicaSpec(serviceId, replicaId) {
    const svc = await db().service.findUnique({ where: { id: serviceId } });
    if (!svc) return null;
    // a replica of a rollout's new version runs the rollout's spec (the service's fields change at its promotion)
    const rolloutSpec = await rolloutSpecOf(serviceId, replicaId);
    const { command, env } = rolloutSpec ?? runFieldsOf(svc);
    if (rolloutSpec) svc.image = rolloutSpec.image;
    return {
      serviceId,
      serviceName: svc.name,
      replicaId,
      image: svc.image ?? undefined,
      command: command ?? undefined, // none: the runtime's default
      env,
      dataPort: svc.dataPort,
      adminPort: svc.adminPort,
      adminToken: svc.adminToken,
      memoryLimitMb: svc.memoryLimitMb,
      memoryThresholdPercent: memoryThresholdOf(svc),
      cpuLimit: svc.cpuLimit,
      allowRoot: svc.allowRoot,
    };
  },
  async replicas(serviceId) {
    return (await db().replica.findMany({ where: { serviceId } })).map(toRecord);
  },
  async replica(id) {
    const r = await db().replica.findUnique({ where: { id } });
    return r ? toRecord(r) : null;
  },
  async createReplica(row) {
    await db().replica.create({ data: row });
  },
  async updateReplica(id, patch) {
    return toRecord(await db().replica.update({ where: { id }, data: patch }));
  },
  async deleteReplica(id) {
    await db().replica.delete({ where: { id } });
  },
  async lowerDesiredAndDrain(serviceId, replicaId, desired) {
    await db().$transaction([db().service.update({ where: { id: serviceId }, data: { replicas: desired } }), db().replica.update({ where: { id: replicaId }, data: { state: "draining" } })]);
  },
  balancerService: balancerServiceOf,
  balancerConfig: () => currentBalancerConfig(),
  recordEvent,
};
