import { describe, expect, it } from "vitest";
import { SWARM_ROLLBACK_ASKED, swarmRolloutVerdict, swarmStepOf, swarmUpdateConfigs, type SwarmRolloutProgress } from "@/lib/core/swarm-rollout";

const V = "abc123def456";
const p = (over: Partial<SwarmRolloutProgress>): SwarmRolloutProgress => ({ updateState: null, message: null, desired: 3, newTasks: 0, oldTasks: 3, failedTasks: 0, specVersion: V, ...over });

describe("Swarm's UpdateStatus to the rollout's state", () => {
  it("updating is running; completed with the spec on the new version is promoted", () => {
    expect(swarmRolloutVerdict("running", p({ updateState: "updating", newTasks: 1, oldTasks: 2 }), V)).toEqual({ state: "running", reason: null });
    const done = swarmRolloutVerdict("running", p({ updateState: "completed", newTasks: 3, oldTasks: 0 }), V);
    expect(done.state).toBe("promoted");
    expect(done.reason).toContain("completed");
  });

  it("rollback_completed is rolled back by Swarm with its message, never promoted, even if it says completed first", () => {
    const msg = "update rolled back due to failure or early termination of task x1";
    const v = swarmRolloutVerdict("running", p({ updateState: "rollback_completed", message: msg, failedTasks: 2 }), V);
    expect(v).toEqual({ state: "rolled_back", reason: `rolled back by Swarm: ${msg}` });
    // the same from a rollout already rolling back (Swarm's rollback_started seen before)
    expect(swarmRolloutVerdict("rolling_back", p({ updateState: "rollback_completed", message: msg }), V).state).toBe("rolled_back");
  });

  it("the rolled-back reason keeps Swarm's message from when the rollback started, and the failed task's error", () => {
    const start = swarmRolloutVerdict("running", p({ updateState: "rollback_started", message: "update rolled back due to failure or early termination of task t1", failedError: "task: non-zero exit (3)" }), V);
    expect(start).toEqual({ state: "rolling_back", reason: "Swarm is rolling back: update rolled back due to failure or early termination of task t1; a new task failed: task: non-zero exit (3)" });
    const end = swarmRolloutVerdict("rolling_back", p({ updateState: "rollback_completed", message: "rollback completed" }), V, null, start.reason);
    expect(end).toEqual({ state: "rolled_back", reason: "rolled back by Swarm: update rolled back due to failure or early termination of task t1; a new task failed: task: non-zero exit (3)" });
    // not seen starting: Swarm's last words and the failed task's
    expect(swarmRolloutVerdict("running", p({ updateState: "rollback_completed", message: "rollback completed", failedError: "task: non-zero exit (3)" }), V).reason).toBe("rolled back by Swarm: rollback completed; a new task failed: task: non-zero exit (3)");
  });

  it("rollback_started is rolling back; paused and rollback_paused are paused with Swarm's words", () => {
    expect(swarmRolloutVerdict("running", p({ updateState: "rollback_started", message: "m" }), V)).toEqual({ state: "rolling_back", reason: "Swarm is rolling back: m" });
    expect(swarmRolloutVerdict("running", p({ updateState: "paused", message: "update paused due to failure" }), V)).toEqual({ state: "paused", reason: "paused by Swarm: update paused due to failure" });
    expect(swarmRolloutVerdict("rolling_back", p({ updateState: "rollback_paused", message: "m" }), V).state).toBe("paused");
  });

  it("a person's rollback stays rolling back until Swarm reports its own, and ends with the person's reason", () => {
    const asked = `rolled back by ada: ${SWARM_ROLLBACK_ASKED}`;
    // Swarm still shows the completed update it is asked to undo
    expect(swarmRolloutVerdict("rolling_back", p({ updateState: "completed", newTasks: 3, oldTasks: 0 }), V, asked)).toEqual({ state: "rolling_back", reason: asked });
    expect(swarmRolloutVerdict("rolling_back", p({ updateState: "rollback_started", message: "manually requested rollback" }), V, asked)).toEqual({ state: "rolling_back", reason: asked });
    expect(swarmRolloutVerdict("rolling_back", p({ updateState: "rollback_completed", message: "rollback completed" }), V, asked)).toEqual({ state: "rolled_back", reason: asked });
  });

  it("no status yet stays running unless every task already runs the new version; completed on another version is not promoted", () => {
    expect(swarmRolloutVerdict("running", p({}), V).state).toBe("running");
    expect(swarmRolloutVerdict("running", p({ newTasks: 3, oldTasks: 0 }), V).state).toBe("promoted");
    expect(swarmRolloutVerdict("running", p({ newTasks: 3, oldTasks: 0, specVersion: "other" }), V).state).toBe("running");
    expect(swarmRolloutVerdict("running", p({ updateState: "completed", specVersion: "other" }), V).state).toBe("aborted");
    // Swarm says "update completed" for the previous spec after rolling back (seen on the bed): rolled back, not success
    const after = swarmRolloutVerdict("running", p({ updateState: "completed", message: "update completed", specVersion: null, failedTasks: 2, failedError: "task: non-zero exit (3)" }), V);
    expect(after.state).toBe("rolled_back");
    expect(after.reason).toMatch(/^rolled back by Swarm: the previous spec runs again/);
  });

  it("the update and rollback configs follow the plan: batches, delay, start-first, a failure rolls back", () => {
    const c = swarmUpdateConfigs({ batchSize: 2, holdS: 10 });
    expect(c.UpdateConfig).toMatchObject({ Parallelism: 2, Delay: 10e9, Monitor: 5e9, FailureAction: "rollback", Order: "start-first", MaxFailureRatio: 0 });
    expect(c.RollbackConfig).toMatchObject({ Parallelism: 2, FailureAction: "pause", Order: "start-first" });
  });

  it("the step is the batches Swarm finished, within the steps", () => {
    expect(swarmStepOf(0, 1, 3)).toBe(0);
    expect(swarmStepOf(2, 1, 3)).toBe(2);
    expect(swarmStepOf(3, 1, 3)).toBe(2);
    expect(swarmStepOf(3, 2, 2)).toBe(1);
  });
});
