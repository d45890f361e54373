import type { RolloutPlan, RolloutState } from "@/lib/core/rollout";

/**
 * A rollout of a `runtime: "swarm"` service (issue 17): Swarm runs it, as a rolling update of
 * the Swarm service (its UpdateConfig/RollbackConfig from the rollout's plan); the panel
 * follows Swarm's UpdateStatus and the tasks' versions and says what happened in Swarm's own
 * terms. Pure: lib/runtime/swarm.ts reads the figures, lib/rollout/runner.ts applies the verdict.
 */

/** The label on a Swarm service's task template (so on each task) naming the spec version it runs (lib/core/rollout.ts specVersion). */
export const SWARM_VERSION_LABEL = "switchyard.version";

/** The end of the reason a person's Rollback or Abort of a Swarm rollout records (the runner tells it from Swarm's own rollback). */
export const SWARM_ROLLBACK_ASKED = "Swarm's rollback to the previous spec";

const ROLLING_BACK = "Swarm is rolling back: ";

/** Swarm's UpdateStatus.State words (API 1.41). */
export const SWARM_UPDATE_STATES = ["updating", "paused", "completed", "rollback_started", "rollback_paused", "rollback_completed"] as const;

/** Where a Swarm update stands: Swarm's words and what its tasks run. */
export type SwarmRolloutProgress = {
  /** UpdateStatus.State, null while Swarm has not reported one for the current spec */
  updateState: string | null;
  /** UpdateStatus.Message (Swarm's reason for a pause or a rollback) */
  message: string | null;
  /** the Swarm service's replica count */
  desired: number;
  /** tasks running now (desired running) on the rollout's new version / on any other */
  newTasks: number;
  oldTasks: number;
  /** tasks of the new version that failed or were rejected (kept in Swarm's task history) */
  failedTasks: number;
  /** the newest failed task's error on the new version, as Swarm said it ("task: non-zero exit (3)") */
  failedError?: string | null;
  /** the version the Swarm service's spec runs now (its task template's label); null: unlabelled */
  specVersion: string | null;
};

/** Swarm's UpdateConfig and RollbackConfig for a rollout's plan: batches of `batchSize`, `holdS` between them, start-first, a failure rolls back. */
export function swarmUpdateConfigs(plan: Pick<RolloutPlan, "batchSize" | "holdS">, monitorS = 5): { UpdateConfig: Record<string, unknown>; RollbackConfig: Record<string, unknown> } {
  const monitor = Math.max(1, monitorS) * 1e9;
  return {
    UpdateConfig: { Parallelism: plan.batchSize, Delay: plan.holdS * 1e9, Monitor: monitor, FailureAction: "rollback", MaxFailureRatio: 0, Order: "start-first" },
    // a rollback that fails too stops where it is (paused): the panel says so and a person decides
    RollbackConfig: { Parallelism: plan.batchSize, Delay: 0, Monitor: monitor, FailureAction: "pause", MaxFailureRatio: 0, Order: "start-first" },
  };
}

export type SwarmVerdict = { state: RolloutState; reason: string | null };

/**
 * The rollout's next state from Swarm's report. `current` is the rollout's state now;
 * `askedBack` is the reason a person gave when they pressed Rollback or Abort (null: none).
 * - updating → running; completed (the spec runs the new version) → promoted;
 * - rollback_started → rolling_back; rollback_completed → rolled_back, "rolled back by Swarm"
 *   with Swarm's message (or the person's reason) — never promoted after Swarm rolled back;
 * - paused, rollback_paused → paused, with Swarm's message;
 * - no status yet: running, unless every task already runs the new version (nothing for Swarm's updater to do).
 * A rollback a person asked for stays rolling_back until Swarm reports its own rollback.
 */
export function swarmRolloutVerdict(current: RolloutState, p: SwarmRolloutProgress, toVersion: string, askedBack: string | null = null, currentReason: string | null = null): SwarmVerdict {
  const said = p.message ? `: ${p.message}` : "";
  const failed = p.failedError ? `; a new task failed: ${p.failedError}` : "";
  // Swarm's message names the failing task when the rollback starts and only says "rollback completed" at its end
  const started = currentReason?.startsWith(ROLLING_BACK) ? currentReason.slice(ROLLING_BACK.length) : null;
  switch (p.updateState) {
    case "rollback_completed":
      return { state: "rolled_back", reason: askedBack ?? (started ? `rolled back by Swarm: ${started}` : `rolled back by Swarm${said}${failed}`) };
    case "rollback_started":
      return { state: "rolling_back", reason: askedBack ?? `${ROLLING_BACK}${p.message ?? "no reason given"}${failed}` };
    case "rollback_paused":
      return { state: "paused", reason: `Swarm's rollback paused${said}; press Rollback again or fix the service in Swarm` };
    default:
      break;
  }
  // Swarm has not taken up a rollback a person asked for yet
  if (current === "rolling_back") return { state: "rolling_back", reason: askedBack };
  switch (p.updateState) {
    case "updating":
      return { state: "running", reason: null };
    case "paused":
      return { state: "paused", reason: `paused by Swarm${said}` };
    case "completed":
      if (p.specVersion === toVersion) return { state: "promoted", reason: `Swarm's update completed: ${p.newTasks} of ${p.desired} task(s) run ${toVersion}` };
      // completed, but not this version. After its rollback Swarm was seen to report "update
      // completed" for the previous spec (its updater ran again): with failed new tasks that is a rollback
      if (p.failedTasks > 0) return { state: "rolled_back", reason: `rolled back by Swarm: the previous spec runs again (Swarm now says "${p.message ?? "completed"}" for it)${failed}` };
      return { state: "aborted", reason: `the Swarm service no longer runs ${toVersion} (its spec runs ${p.specVersion ?? "an unlabelled version"}): changed outside the panel` };
    default:
      if (p.specVersion === toVersion && p.oldTasks === 0 && p.newTasks >= p.desired) return { state: "promoted", reason: `every task (${p.newTasks}) runs ${toVersion}` };
      return { state: current === "paused" ? "paused" : "running", reason: null };
  }
}

/** A Swarm rollout's step (the card's batch rows): the batches of `batchSize` Swarm has finished, from the tasks on the new version. */
export function swarmStepOf(newTasks: number, batchSize: number, stepCount: number): number {
  return Math.max(0, Math.min(stepCount - 1, Math.floor(newTasks / Math.max(1, batchSize))));
}
