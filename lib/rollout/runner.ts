import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import { EVENT_KIND, type RecordedEventKind } from "@/lib/core/event-kinds";
import type { ServiceTick } from "@/lib/core/metrics";
import { serverNameFor } from "@/lib/engines/types";
import { balancerServiceOf } from "@/lib/db/balancer-config";
import { controller } from "@/lib/controller/controller";
import { collector } from "@/lib/controller/collector";
import { resumeAutoscaler } from "@/lib/autoscale/store";
import { evaluateGates, versionFigures, type Side } from "@/lib/rollout/gates";
import { CLUSTER_ROLLED } from "@/lib/rollout/cluster-rollout";
import { activeRollouts, planOf, specOf, stepsOf, weightsOf, type RolloutRow } from "@/lib/rollout/store";
import { isActiveRollout, type RolloutState, type RunSpec } from "@/lib/core/rollout";
import { SWARM_ROLLBACK_ASKED, swarmRolloutVerdict, swarmStepOf, type SwarmRolloutProgress } from "@/lib/core/swarm-rollout";
import { swarmRuntime } from "@/lib/runtime/registry";

/**
 * The rollout runner (issue 16, part 2): once a second, each active rollout moves as far
 * as the replicas allow. Everything it needs is in the Rollout row (its step, when the
 * step's split was in place, the old/new counts), so a panel that restarts picks every
 * rollout up from its recorded step. The reconciler keeps the counts (one plan per
 * version, lib/controller/reconciler.ts); the runner sets the engine's weights and judges
 * each step with lib/rollout/gates.ts over the collector's ticks since the step began.
 *
 * running      step k: new replicas up to the step's count, once ready the weights of the
 *              split, then old replicas down to the step's count (surge first: capacity
 *              never drops); then it holds: a failing gate rolls back at once, a pass after
 *              the hold moves on; a step short of requests past hold + maxWaitS pauses.
 * promoting    new replicas up to the full count, old weight 1, old ones drained; then
 *              the service's image/command/env become the new ones: promoted.
 * rolling_back old replicas back to the full count, old weight 100 and new weight 0, the
 *              new ones drained and removed: rolled_back (or aborted, by hand).
 */

export const ROLLOUT_INTERVAL_MS = 1000;

export type RolloutRunnerDeps = {
  history: (serviceId: string, points: number) => ServiceTick[];
  /** where a swarm service's update stands (lib/runtime/swarm.ts rolloutProgress) */
  swarmProgress?: (serviceId: string, version: string) => Promise<SwarmRolloutProgress>;
  kick: (serviceId: string) => void;
  now?: () => number;
  intervalMs?: number;
};

/** The rollout's state changed under the runner (a person acted): this pass stops, the next reads it again. */
class StateChanged extends Error {}

type Instance = { id: string; version: string | null; state: string; inEngine: boolean; weight: number };

const leaving = (r: Instance) => r.state === "draining" || r.state === "stopping";

export class RolloutRunner {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly deps: RolloutRunnerDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs ?? ROLLOUT_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // a cluster's rolling update is the cluster's (lib/rollout/cluster-rollout.ts)
      const clusterRolled = new Set((await db().service.findMany({ where: { runtime: { in: [...CLUSTER_ROLLED] } }, select: { id: true } })).map((s) => s.id));
      for (const r of (await activeRollouts()).filter((x) => !clusterRolled.has(x.serviceId))) {
        await this.advance(r).catch((e) => {
          if (!(e instanceof StateChanged)) console.error(`[switchyard] rollout ${r.id}: ${e instanceof Error ? e.message : e}`);
        });
      }
    } catch (e) {
      console.error(`[switchyard] rollouts: ${e instanceof Error ? e.message : e}`);
    } finally {
      this.running = false;
    }
  }

  private async update(r: RolloutRow, data: Partial<Pick<RolloutRow, "state" | "step" | "stepStartedAt" | "oldDesired" | "newDesired" | "lastGate" | "reason" | "endedAt">>): Promise<RolloutRow> {
    // only from the state it read: a person's pause, promote or abort in between wins
    const res = await db().rollout.updateMany({ where: { id: r.id, state: r.state }, data });
    if (res.count === 0) throw new StateChanged();
    const next = await db().rollout.findUniqueOrThrow({ where: { id: r.id } });
    if (data.oldDesired !== undefined || data.newDesired !== undefined || data.state !== undefined) this.deps.kick(r.serviceId);
    return next;
  }

  private async event(r: RolloutRow, kind: RecordedEventKind, message: string, level: "info" | "warn" | "error" = "info", data?: Record<string, unknown>): Promise<void> {
    await recordEvent({ kind, level, actor: "rollout", serviceId: r.serviceId, message, data: { rolloutId: r.id, step: r.step, ...data } });
  }

  /** The engine's weight of each ready replica of the service, to what the rollout's state says (only those that differ). */
  private async applyWeights(r: RolloutRow, instances: Instance[]): Promise<void> {
    const w = weightsOf(r);
    const changes = instances.filter((i) => !leaving(i)).map((i) => ({ i, weight: i.version === r.toVersion ? w.newWeight : w.oldWeight })).filter((c) => c.i.weight !== c.weight);
    if (changes.length === 0) return;
    const ctl = controller();
    await ctl.engineLock.run(async () => {
      for (const c of changes) await db().replica.update({ where: { id: c.i.id }, data: { weight: c.weight } });
      const service = await balancerServiceOf(r.serviceId);
      if (!service || !ctl.engineState().ready) return;
      for (const c of changes) if (c.i.inEngine) await ctl.engine.setWeight(service, serverNameFor(c.i.id), c.weight);
    });
  }

  async advance(r: RolloutRow): Promise<void> {
    const svc = await db().service.findUnique({ where: { id: r.serviceId }, select: { runtime: true } });
    if (svc?.runtime === "swarm" && this.deps.swarmProgress) return this.advanceSwarm(r, this.deps.swarmProgress);
    if (r.state === "paused") return;
    const instances: Instance[] = await db().replica.findMany({ where: { serviceId: r.serviceId }, select: { id: true, version: true, state: true, inEngine: true, weight: true } });
    const isNew = (i: Instance) => i.version === r.toVersion;
    const news = instances.filter((i) => isNew(i) && !leaving(i));
    const olds = instances.filter((i) => !isNew(i) && !leaving(i));
    const readyCount = (xs: Instance[]) => xs.filter((i) => i.state === "ready" && i.inEngine).length;

    if (r.state === "rolling_back") {
      if (r.oldDesired !== r.replicas) r = await this.update(r, { oldDesired: r.replicas });
      if (readyCount(olds) < r.replicas) return;
      await this.applyWeights(r, instances);
      if (r.newDesired !== 0) r = await this.update(r, { newDesired: 0 });
      if (instances.some(isNew)) return;
      const aborted = (r.reason ?? "").startsWith("aborted");
      r = await this.update(r, { state: aborted ? "aborted" : "rolled_back", endedAt: new Date(this.now()) });
      await this.finish(r);
      await this.event(r, aborted ? EVENT_KIND.rolloutAborted : EVENT_KIND.rolloutRolledBack, `rollout ${aborted ? "aborted" : "rolled back"}: ${r.replicas} replica(s) of ${r.fromVersion} at full weight, the new ones drained and removed (${r.reason ?? ""})`, aborted ? "warn" : "error", { reason: r.reason });
      return;
    }

    if (r.state === "promoting") {
      if (r.newDesired !== r.replicas) r = await this.update(r, { newDesired: r.replicas });
      if (readyCount(news) < r.replicas) return this.checkFailedNew(r, instances);
      await this.applyWeights(r, instances);
      if (r.oldDesired !== 0) r = await this.update(r, { oldDesired: 0 });
      if (instances.some((i) => !isNew(i))) return;
      const to = specOf(r.toSpec);
      await db().service.update({ where: { id: r.serviceId }, data: { image: to.image, command: to.command ? JSON.stringify(to.command) : null, env: JSON.stringify(to.env) } });
      r = await this.update(r, { state: "promoted", endedAt: new Date(this.now()) });
      await this.finish(r);
      await this.event(r, EVENT_KIND.rolloutPromoted, `rollout promoted: ${r.replicas} replica(s) run ${r.toVersion}; the old version's replicas drained and removed`);
      return;
    }

    // running
    const steps = stepsOf(r);
    const step = steps[r.step];
    if (!step) {
      await this.update(r, { state: "promoting" });
      return;
    }
    if (!r.stepStartedAt) {
      if (r.newDesired < step.newReplicas) r = await this.update(r, { newDesired: step.newReplicas });
      if (readyCount(news) < step.newReplicas) return this.checkFailedNew(r, instances);
      await this.applyWeights(r, instances);
      if (r.oldDesired > step.oldReplicas) r = await this.update(r, { oldDesired: step.oldReplicas });
      if (olds.length > step.oldReplicas) return;
      r = await this.update(r, { stepStartedAt: new Date(this.now()) });
      const split = step.newWeightPercent === null ? `${step.newReplicas} new, ${step.oldReplicas} old, equal weights` : `${step.newWeightPercent} % of traffic to the new version (${step.newReplicas} new, ${step.oldReplicas} old)`;
      await this.event(r, EVENT_KIND.rolloutStep, `rollout step ${r.step + 1} of ${steps.length}: ${split}`, "info", { newReplicas: step.newReplicas, oldReplicas: step.oldReplicas, newWeightPercent: step.newWeightPercent });
      return;
    }
    await this.judge(r, instances, steps.length);
  }

  /**
   * A swarm service's rollout: Swarm runs the update (its UpdateConfig from the plan, written by
   * startRollout); each pass reads Swarm's UpdateStatus and the tasks' versions, records the
   * counts and the batch, and follows Swarm's verdict (lib/core/swarm-rollout.ts): completed
   * → promoted (the service's fields become the new spec), rollback_completed → rolled back
   * by Swarm (the old spec stays), paused with Swarm's message.
   */
  private async advanceSwarm(r: RolloutRow, progressOf: NonNullable<RolloutRunnerDeps["swarmProgress"]>): Promise<void> {
    const p = await progressOf(r.serviceId, r.toVersion);
    const askedBack = r.state === "rolling_back" && r.reason?.endsWith(SWARM_ROLLBACK_ASKED) ? r.reason : null;
    const v = swarmRolloutVerdict(r.state as RolloutState, p, r.toVersion, askedBack, r.reason);
    const steps = stepsOf(r);
    const step = swarmStepOf(p.newTasks, planOf(r).batchSize, steps.length);
    const grew = p.newTasks > r.newDesired && v.state === "running";
    if (v.state === r.state) {
      if (p.newTasks !== r.newDesired || p.oldTasks !== r.oldDesired || (v.state === "running" && step !== r.step)) {
        r = await this.update(r, { newDesired: p.newTasks, oldDesired: p.oldTasks, ...(v.state === "running" ? { step } : {}) });
        if (grew) await this.event(r, EVENT_KIND.rolloutStep, `Swarm updated ${p.newTasks} of ${p.desired} task(s) to ${r.toVersion}`, "info", { newTasks: p.newTasks, oldTasks: p.oldTasks });
      }
      return;
    }
    const ended = !isActiveRollout(v.state);
    const state: RolloutState = v.state === "rolled_back" && askedBack?.startsWith("aborted") ? "aborted" : v.state;
    r = await this.update(r, { state, reason: v.reason, newDesired: p.newTasks, oldDesired: p.oldTasks, endedAt: ended ? new Date(this.now()) : null, ...(state === "promoted" ? { step: steps.length - 1 } : {}) });
    const tasks = `${p.newTasks} task(s) on ${r.toVersion}, ${p.oldTasks} on the old version${p.failedTasks ? `, ${p.failedTasks} of the new failed` : ""}`;
    if (state === "promoted") {
      await this.writeServiceSpec(r, specOf(r.toSpec));
      await this.finish(r);
      await this.event(r, EVENT_KIND.rolloutPromoted, `rollout completed by Swarm: ${tasks}`, "info", { swarm: p });
    } else if (state === "rolled_back" || state === "aborted") {
      await this.writeServiceSpec(r, specOf(r.fromSpec));
      await this.finish(r);
      await this.event(r, state === "aborted" ? EVENT_KIND.rolloutAborted : EVENT_KIND.rolloutRolledBack, `rollout ${state === "aborted" ? "aborted" : "rolled back"} (${v.reason ?? ""}): ${tasks}`, state === "aborted" ? "warn" : "error", { reason: v.reason, swarm: p });
    } else if (state === "rolling_back") {
      await this.event(r, EVENT_KIND.rolloutRollingBack, `${v.reason ?? "Swarm is rolling back"}: ${tasks}`, "warn", { reason: v.reason, swarm: p });
    } else if (state === "paused") {
      await this.event(r, EVENT_KIND.rolloutPaused, `rollout ${v.reason ?? "paused by Swarm"}: ${tasks}`, "warn", { reason: v.reason, swarm: p });
    } else if (state === "running") {
      await this.event(r, EVENT_KIND.rolloutResumed, `Swarm updates again: ${tasks}`, "info", { swarm: p });
    }
  }

  /** The service's image, command and environment (what a swarm service's row says it runs) after Swarm finished. */
  private async writeServiceSpec(r: RolloutRow, spec: RunSpec): Promise<void> {
    await db().service.update({ where: { id: r.serviceId }, data: { image: spec.image, command: spec.command ? JSON.stringify(spec.command) : null, env: JSON.stringify(spec.env) } });
  }

  /** A new replica that failed to start is a failed health gate (no waiting for ever). */
  private async checkFailedNew(r: RolloutRow, instances: Instance[]): Promise<void> {
    const failed = instances.filter((i) => i.version === r.toVersion && i.state === "failed");
    if (failed.length === 0) return;
    const message = `health checks: new replica ${failed[0].id} failed to start or become healthy`;
    await this.rollBack(r, `gate health failed: ${message}`, { verdict: "fail", gate: "health", message });
  }

  private async judge(r: RolloutRow, instances: Instance[], stepCount: number): Promise<void> {
    const plan = planOf(r);
    const started = r.stepStartedAt!.getTime();
    const now = this.now();
    const sides = new Map<string, Side>(instances.filter((i) => !leaving(i)).map((i) => [i.id, i.version === r.toVersion ? "new" : "old"]));
    const ticks = this.deps.history(r.serviceId, 900).filter((t) => t.t >= started);
    const figures = versionFigures(ticks, (id) => sides.get(id) ?? null);
    const holdDone = now - started >= plan.holdS * 1000;
    const v = evaluateGates({ figures, policy: plan.gates, holdDone });
    const lastGate = JSON.stringify({ ...v, at: new Date(now).toISOString() });
    if (v.verdict === "fail") {
      await this.rollBack(r, `gate ${v.gate} failed at step ${r.step + 1}: ${v.message}`, v);
      return;
    }
    if (v.verdict === "pass") {
      const last = r.step + 1 >= stepCount;
      r = await this.update(r, last ? { state: "promoting", lastGate } : { step: r.step + 1, stepStartedAt: null, lastGate });
      await this.event(r, EVENT_KIND.rolloutStep, last ? `rollout step ${stepCount} passed (${v.message}); promoting` : `rollout step ${r.step} passed (${v.message})`, "info", { gate: v });
      return;
    }
    if (holdDone && v.gate === "min-requests" && now - started > (plan.holdS + plan.gates.maxWaitS) * 1000) {
      const reason = `inconclusive at step ${r.step + 1}: ${v.message} after ${Math.round((now - started) / 1000)} s; promote, resume or abort`;
      r = await this.update(r, { state: "paused", lastGate, reason });
      await this.event(r, EVENT_KIND.rolloutPaused, `rollout paused, ${reason}`, "warn");
      return;
    }
    await db().rollout.updateMany({ where: { id: r.id, state: r.state }, data: { lastGate } });
  }

  async rollBack(r: RolloutRow, reason: string, gate?: unknown): Promise<void> {
    r = await this.update(r, { state: "rolling_back", reason, ...(gate ? { lastGate: JSON.stringify({ ...(gate as object), at: new Date(this.now()).toISOString() }) } : {}) });
    await this.event(r, EVENT_KIND.rolloutRollingBack, `rolling back: ${reason}`, "warn", { reason });
  }

  /** The autoscaler the rollout held resumes. */
  private async finish(r: RolloutRow): Promise<void> {
    if (r.autoscalerPaused) await resumeAutoscaler(r.serviceId);
    this.deps.kick(r.serviceId);
  }
}

export function rolloutRunner(): RolloutRunner {
  return remember("rollout-runner", () => new RolloutRunner({ history: (id, n) => collector().historyOf(id, n), kick: (id) => controller().kick(id), swarmProgress: (id, version) => swarmRuntime().rolloutProgress(id, version) }));
}
