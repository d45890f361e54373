import { describe, expect, it } from "vitest";
import { rolloutRequestSchema, rolloutSteps, type RolloutView } from "@/lib/core/rollout";
import { emptyDraft, requestOf, stepRows } from "@/components/rollout/rollout-model";

describe("the Rollout card's model", () => {
  it("the start form's draft becomes a body the API's schema accepts", () => {
    const d = { ...emptyDraft({ A: "1" }), env: "A=1\nERROR_RATE=30\n", weights: "10, 50", holdS: "20", minRequests: "40" };
    const out = requestOf(d);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.body).toMatchObject({ strategy: "canary", env: { A: "1", ERROR_RATE: "30" }, weights: [10, 50], holdS: 20, gates: { minRequests: 40 } });
    expect(rolloutRequestSchema.safeParse(out.body).success).toBe(true);
    const rolling = requestOf({ ...d, strategy: "rolling", batchSize: "2" });
    expect(rolling.ok && rolloutRequestSchema.safeParse(rolling.body).success).toBe(true);
  });

  it("wrong fields are named", () => {
    const out = requestOf({ ...emptyDraft({}), env: "no equals sign", weights: "10, 150", holdS: "soon" });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(Object.keys(out.errors).sort()).toEqual(["env", "holdS", "weights"]);
  });

  it("step statuses: done before the current step, the failed one when rolled back, the promotion last", () => {
    const plan = { strategy: "canary" as const, weights: [10, 50], batchSize: 1, holdS: 5, gates: {} as RolloutView["plan"]["gates"] };
    const v = (state: RolloutView["state"], step: number) => ({ state, step, replicas: 2, steps: rolloutSteps(plan, 2), plan }) as unknown as RolloutView;
    expect(stepRows(v("running", 1)).map((s) => s.status)).toEqual(["done", "current", "pending"]);
    expect(stepRows(v("rolled_back", 0)).map((s) => s.status)).toEqual(["failed", "pending", "pending"]);
    expect(stepRows(v("promoted", 1)).map((s) => s.status)).toEqual(["done", "done", "done"]);
  });
});
