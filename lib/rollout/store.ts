import { z } from "zod";
import { db } from "@/lib/db/client";
import { commandSchema } from "@/lib/core/service";
import {
  ACTIVE_ROLLOUT_STATES,
  gatePolicySchema,
  newShareOf,
  rolloutSteps,
  splitWeights,
  type GateVerdict,
  type RolloutPlan,
  type RolloutState,
  type RolloutStep,
  type RolloutView,
  type RunSpec,
} from "@/lib/core/rollout";
import type { RolloutCounts } from "@/lib/controller/repository";

/**
 * The Rollout rows (prisma/schema.prisma) and what the controller reads of them: the
 * counts of each version it keeps while a rollout runs, and the spec a new replica runs.
 */

export type RolloutRow = NonNullable<Awaited<ReturnType<ReturnType<typeof db>["rollout"]["findFirst"]>>>;

const specSchema = z.object({ image: z.string().nullable(), command: commandSchema.nullable(), env: z.record(z.string(), z.string()) });
const planSchema = z.object({
  strategy: z.enum(["rolling", "canary"]),
  weights: z.array(z.number()),
  batchSize: z.number(),
  holdS: z.number(),
  gates: gatePolicySchema,
});

export const specOf = (json: string): RunSpec => specSchema.parse(JSON.parse(json));
export const planOf = (row: { plan: string }): RolloutPlan => planSchema.parse(JSON.parse(row.plan));
export const stepsOf = (row: { plan: string; replicas: number }): RolloutStep[] => rolloutSteps(planOf(row), row.replicas);

export async function activeRollout(serviceId: string): Promise<RolloutRow | null> {
  return db().rollout.findFirst({ where: { serviceId, state: { in: [...ACTIVE_ROLLOUT_STATES] } }, orderBy: { createdAt: "desc" } });
}

export async function activeRollouts(): Promise<RolloutRow[]> {
  return db().rollout.findMany({ where: { state: { in: [...ACTIVE_ROLLOUT_STATES] } } });
}

/**
 * The weights the rollout's step gives each version now: a canary's split while it
 * holds a step; equal weights while rolling, promoting, or rolling back (old 100, new 0).
 */
export function weightsOf(row: Pick<RolloutRow, "state" | "plan" | "replicas" | "step" | "oldDesired" | "newDesired">): { oldWeight: number; newWeight: number } {
  if (row.state === "rolling_back") return { oldWeight: 100, newWeight: 0 };
  if (row.state === "promoting" || row.state === "promoted") return { oldWeight: row.oldDesired > 0 ? 1 : 0, newWeight: 100 };
  const step = stepsOf(row)[row.step];
  if (!step || step.newWeightPercent === null) return { oldWeight: 100, newWeight: 100 };
  return splitWeights(step.newWeightPercent, step.newReplicas, step.oldReplicas);
}

/** What the reconciler keeps of each version while a rollout is active (null: no rollout). */
export async function rolloutCountsOf(serviceId: string): Promise<RolloutCounts | null> {
  const r = await activeRollout(serviceId);
  if (!r) return null;
  return { fromVersion: r.fromVersion, toVersion: r.toVersion, oldDesired: r.oldDesired, newDesired: r.newDesired, ...weightsOf(r) };
}

/** The spec replica `replicaId` runs when it is of an active rollout's new version (null: the service's own). */
export async function rolloutSpecOf(serviceId: string, replicaId: string): Promise<RunSpec | null> {
  const [r, replica] = await Promise.all([activeRollout(serviceId), db().replica.findUnique({ where: { id: replicaId }, select: { version: true } })]);
  return r && replica?.version === r.toVersion ? specOf(r.toSpec) : null;
}

export function rolloutView(row: RolloutRow, counts?: { oldInEngine: number; newInEngine: number }, swarm: RolloutView["swarm"] = null): RolloutView {
  const plan = planOf(row);
  const w = weightsOf(row);
  const oldN = counts?.oldInEngine ?? row.oldDesired;
  const newN = counts?.newInEngine ?? row.newDesired;
  const ended = !(ACTIVE_ROLLOUT_STATES as readonly string[]).includes(row.state);
  let lastGate: RolloutView["lastGate"] = null;
  try {
    lastGate = row.lastGate ? (JSON.parse(row.lastGate) as GateVerdict & { at: string }) : null;
  } catch {
    lastGate = null;
  }
  return {
    id: row.id,
    serviceId: row.serviceId,
    strategy: plan.strategy,
    state: row.state as RolloutState,
    fromVersion: row.fromVersion,
    toVersion: row.toVersion,
    from: specOf(row.fromSpec),
    to: specOf(row.toSpec),
    plan,
    steps: rolloutSteps(plan, row.replicas),
    replicas: row.replicas,
    step: row.step,
    stepStartedAt: row.stepStartedAt?.toISOString() ?? null,
    oldDesired: row.oldDesired,
    newDesired: row.newDesired,
    newSharePercent: ended ? (row.state === "promoted" ? 100 : 0) : swarm ? swarmShare(swarm) : Math.round(newShareOf(w.newWeight, newN, w.oldWeight, oldN) * 10) / 10,
    lastGate,
    reason: row.reason,
    autoscalerPaused: row.autoscalerPaused,
    swarm,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
  };
}

/** A Swarm rollout's share: the running tasks on the new version (the Swarm balancer spreads equally). */
const swarmShare = (s: NonNullable<RolloutView["swarm"]>) => (s.newTasks + s.oldTasks > 0 ? Math.round((1000 * s.newTasks) / (s.newTasks + s.oldTasks)) / 10 : 0);
