import { createHash } from "node:crypto";
import { z } from "zod";
import { commandSchema, envSchema, imageSchema } from "@/lib/core/service";

/**
 * Progressive rollouts (issue 16, part 2): the request's schema, the version a spec runs,
 * and the pure arithmetic of a step (how many old and new replicas, which weights give a
 * traffic split). lib/rollout/runner.ts drives a rollout through these steps and
 * lib/rollout/gates.ts judges each one.
 */

export const ROLLOUT_STRATEGIES = ["rolling", "canary"] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/** States a rollout is in while it owns the service's replicas. */
export const ACTIVE_ROLLOUT_STATES = ["running", "paused", "promoting", "rolling_back"] as const;
export const ROLLOUT_STATES = [...ACTIVE_ROLLOUT_STATES, "promoted", "rolled_back", "aborted"] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export const isActiveRollout = (state: string): boolean => (ACTIVE_ROLLOUT_STATES as readonly string[]).includes(state);

/** What a replica runs. null image/command: the runtime's default (the bundled replica app). */
export type RunSpec = { image: string | null; command: string[] | null; env: Record<string, string> };

/** The version a spec runs: a short hash of image, command and environment (keys sorted). */
export function specVersion(spec: RunSpec): string {
  const env = Object.fromEntries(Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash("sha256")
    .update(JSON.stringify({ image: spec.image, command: spec.command, env }))
    .digest("hex")
    .slice(0, 12);
}

/** The health gates between steps (lib/rollout/gates.ts), Flagger's built-in checks with a minimum-sample guard. */
export const gatePolicySchema = z
  .object({
    /** fail when the new version's error rate is above the old one's (same moment) by more than this many percentage points */
    maxErrorRateDelta: z.number().min(0).max(100).default(5),
    /** fail when the new version's p95 is above old p95 × this ratio + slackMs */
    maxP95Ratio: z.number().min(1).max(100).default(1.5),
    p95SlackMs: z.number().int().min(0).max(60_000).default(50),
    /** requests the new version must have answered in the step before its figures can pass */
    minRequests: z.number().int().min(0).max(1_000_000).default(50),
    /** a quiet service (fewer requests than minRequests) passes on health checks alone instead of waiting */
    passOnHealthWhenQuiet: z.boolean().default(false),
    /** a step still short of requests this long after its hold pauses the rollout (inconclusive, never a pass) */
    maxWaitS: z.number().int().min(0).max(86_400).default(300),
  })
  .strict();
export type GatePolicy = z.infer<typeof gatePolicySchema>;

const holdS = z.number().int().min(0).max(86_400);

export const rolloutRequestSchema = z
  .object({
    /** what changes; a field left out keeps the service's current one */
    image: imageSchema.nullable().optional(),
    command: commandSchema.nullable().optional(),
    env: envSchema.optional(),
    strategy: z.enum(ROLLOUT_STRATEGIES),
    /** canary: the new version's share of traffic at each step, rising, below 100 (the promotion is the 100 %) */
    weights: z.array(z.number().int().min(1).max(99)).min(1).max(10).default([10, 50]),
    /** rolling: replicas replaced per batch */
    batchSize: z.number().int().min(1).max(200).default(1),
    /** each step's hold (canary) or the pause after each batch (rolling), seconds */
    holdS: holdS.default(30),
    gates: gatePolicySchema.default(gatePolicySchema.parse({})),
  })
  .strict()
  .refine((r) => r.weights.every((w, i) => i === 0 || w > r.weights[i - 1]), { message: "weights must rise", path: ["weights"] });
export type RolloutRequest = z.infer<typeof rolloutRequestSchema>;

/** What the rollout record keeps of the request (the spec itself is kept apart). */
export type RolloutPlan = Pick<RolloutRequest, "strategy" | "weights" | "batchSize" | "holdS" | "gates">;

/** One step: how many replicas of each version, and the new version's traffic share (null: by replica count, equal weights). */
export type RolloutStep = { newReplicas: number; oldReplicas: number; newWeightPercent: number | null };

/**
 * The steps of a rollout over `replicas` replicas (at least 1).
 * - canary: per weight, enough new replicas for the share (at least one) beside all the old ones;
 * - rolling: per batch, `batchSize` more new replicas and as many fewer old ones, equal weights.
 * The last step of a rolling rollout has no old replica left; a canary's promotion (new × N, old 0) follows its last step.
 */
export function rolloutSteps(plan: Pick<RolloutPlan, "strategy" | "weights" | "batchSize">, replicas: number): RolloutStep[] {
  const n = Math.max(1, replicas);
  if (plan.strategy === "canary") {
    return plan.weights.map((w) => ({ newReplicas: Math.min(n, Math.max(1, Math.ceil((n * w) / 100))), oldReplicas: n, newWeightPercent: w }));
  }
  const steps: RolloutStep[] = [];
  for (let done = Math.min(n, plan.batchSize); ; done = Math.min(n, done + plan.batchSize)) {
    steps.push({ newReplicas: done, oldReplicas: n - done, newWeightPercent: null });
    if (done >= n) return steps;
  }
}

export const MAX_WEIGHT = 100;

/**
 * Per-server weights that send `percent` % of the traffic to the new version's
 * `newCount` servers and the rest to the old version's `oldCount` (weighted round robin).
 * The heavier side gets MAX_WEIGHT; the other at least 1. Pure.
 */
export function splitWeights(percent: number, newCount: number, oldCount: number): { newWeight: number; oldWeight: number } {
  if (newCount <= 0 || oldCount <= 0 || percent >= 100) return { newWeight: MAX_WEIGHT, oldWeight: percent >= 100 ? 0 : MAX_WEIGHT };
  if (percent <= 0) return { newWeight: 0, oldWeight: MAX_WEIGHT };
  const newMass = percent / newCount;
  const oldMass = (100 - percent) / oldCount;
  if (newMass >= oldMass) return { newWeight: MAX_WEIGHT, oldWeight: Math.max(1, Math.round((MAX_WEIGHT * oldMass) / newMass)) };
  return { newWeight: Math.max(1, Math.round((MAX_WEIGHT * newMass) / oldMass)), oldWeight: MAX_WEIGHT };
}

/** The share of traffic the weights give the new version, in percent (what the card shows). */
export function newShareOf(newWeight: number, newCount: number, oldWeight: number, oldCount: number): number {
  const total = newWeight * newCount + oldWeight * oldCount;
  return total > 0 ? (100 * newWeight * newCount) / total : 0;
}

/** A version's figures over a step (lib/rollout/gates.ts). */
export const versionFiguresSchema = z.object({
  requests: z.number(),
  errors: z.number(),
  /** null: the engine gave no latency for it */
  p95Ms: z.number().nullable(),
  /** replicas of this version in rotation / all of them */
  healthy: z.number(),
  replicas: z.number(),
});
export type VersionFigures = z.infer<typeof versionFiguresSchema>;

export const GATE_NAMES = ["health", "error-rate", "p95", "min-requests"] as const;
export type GateName = (typeof GATE_NAMES)[number];

export const gateVerdictSchema = z.object({
  verdict: z.enum(["pass", "fail", "wait"]),
  /** the gate that failed, or that keeps it waiting */
  gate: z.enum(GATE_NAMES).nullable(),
  /** in words, with the figures: "error rate 29.8 % (new, 30/100) vs 0.0 % (old, 0/200): more than +5 points" */
  message: z.string(),
  newFigures: versionFiguresSchema,
  oldFigures: versionFiguresSchema,
});
export type GateVerdict = z.infer<typeof gateVerdictSchema>;

const runSpecSchema = z.object({ image: z.string().nullable(), command: z.array(z.string()).nullable(), env: z.record(z.string(), z.string()) });

/** The record the API and the card show. */
export const rolloutViewSchema = z.object({
  id: z.string(),
  serviceId: z.string(),
  strategy: z.enum(ROLLOUT_STRATEGIES),
  state: z.enum(ROLLOUT_STATES),
  fromVersion: z.string(),
  toVersion: z.string(),
  from: runSpecSchema,
  to: runSpecSchema,
  plan: z.object({ strategy: z.enum(ROLLOUT_STRATEGIES), weights: z.array(z.number()), batchSize: z.number(), holdS: z.number(), gates: gatePolicySchema }),
  steps: z.array(z.object({ newReplicas: z.number(), oldReplicas: z.number(), newWeightPercent: z.number().nullable() })),
  replicas: z.number(),
  step: z.number(),
  stepStartedAt: z.string().nullable(),
  oldDesired: z.number(),
  newDesired: z.number(),
  /** what the engine's weights give the new version now, percent */
  newSharePercent: z.number(),
  lastGate: gateVerdictSchema.extend({ at: z.string() }).nullable(),
  reason: z.string().nullable(),
  autoscalerPaused: z.boolean(),
  /**
   * A rollout of a swarm service is Swarm's rolling update (lib/core/swarm-rollout.ts): Swarm's
   * UpdateStatus (state and message as Swarm says them while it runs; once ended, the state that
   * ended it) and its running tasks by version, read live (null for other runtimes).
   */
  swarm: z
    .object({
      updateState: z.string().nullable(),
      message: z.string().nullable(),
      desired: z.number(),
      newTasks: z.number(),
      oldTasks: z.number(),
      /** null: the manager did not answer */
      failedTasks: z.number().nullable(),
    })
    .nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
});
export type RolloutView = z.infer<typeof rolloutViewSchema>;

/** rollback: a swarm service's rollout only, Swarm's own rollback to the previous spec (also after it completed). */
export const rolloutActionSchema = z.enum(["promote", "pause", "resume", "abort", "rollback"]);
export type RolloutAction = z.infer<typeof rolloutActionSchema>;
