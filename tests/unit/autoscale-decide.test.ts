import { describe, expect, it } from "vitest";
import { decide, recommendForTarget, type DecideInput, type Recommendation, type ReplicaSample, type ScaleChange } from "@/lib/autoscale/decide";
import { autoscaleSettingsSchema, defaultAutoscaleSettings, type AutoscaleTarget } from "@/lib/core/autoscale";

/** A mature replica (ready for a minute) with these figures. */
const rep = (id: string, figures: ReplicaSample["figures"], readyForMs: number | null = 60_000): ReplicaSample => ({ id, readyForMs, figures });
const rps = (...values: (number | null)[]) => values.map((v, i) => rep(`r${i}`, { rps: v }));
const T = (metric: AutoscaleTarget["metric"], value: number): AutoscaleTarget => ({ metric, value });

const NOW = 1_000_000;
function input(over: Partial<DecideInput> & Pick<DecideInput, "replicas">): DecideInput {
  return {
    now: NOW,
    settings: { minReplicas: 1, maxReplicas: 20, windowS: 300, targets: [T("rps", 10)] },
    current: over.replicas.length,
    recommendations: [],
    changes: [],
    ...over,
  };
}

describe("recommendForTarget: the HPA's replica calculator", () => {
  it("desired = ceil(current × metric / target)", () => {
    // 2 replicas at 45 req/s each, target 20: ceil(2 × 2.25) = 5
    expect(recommendForTarget(T("rps", 20), rps(45, 45), 2).replicas).toBe(5);
    // 4 replicas at 5 each, target 10: ceil(4 × 0.5) = 2
    expect(recommendForTarget(T("rps", 10), rps(5, 5, 5, 5), 4).replicas).toBe(2);
    // the average over the replicas: 30 and 10 average 20, target 10 → 4
    expect(recommendForTarget(T("rps", 10), rps(30, 10), 2).replicas).toBe(4);
  });

  it("no change within the 10 % tolerance (both ways), a change just past it", () => {
    expect(recommendForTarget(T("rps", 10), rps(11, 11, 11), 3)).toMatchObject({ replicas: 3, note: "within the 10 % tolerance" });
    expect(recommendForTarget(T("rps", 10), rps(9, 9, 9), 3).replicas).toBe(3);
    expect(recommendForTarget(T("rps", 10), rps(11.5, 11.5, 11.5), 3).replicas).toBe(4);
    expect(recommendForTarget(T("rps", 10), rps(8, 8, 8, 8, 8), 5).replicas).toBe(4);
  });

  it("young replicas (not ready, or ready for less than 30 s) do not count; on a scale-up they count as 0", () => {
    const young = [rep("a", { rps: 40 }), rep("b", { rps: 40 }), rep("c", { rps: 40 }, 5_000), rep("d", { rps: null }, null)];
    // mature average 40, target 20: a scale-up, so the 2 young count as 0: average 20 → within tolerance → stays 4
    const out = recommendForTarget(T("rps", 20), young, 4);
    expect(out).toMatchObject({ counted: 2, young: 2, missing: 0, replicas: 4 });
    // mature 60: with the young at 0 the average is 30, 1.5 × 4 = 6
    expect(recommendForTarget(T("rps", 20), [rep("a", { rps: 60 }), rep("b", { rps: 60 }), rep("c", { rps: 60 }, 1000), rep("d", {}, null)], 4).replicas).toBe(6);
    // on a scale-down young replicas are left out of the average, and the load is spread over all 4
    expect(recommendForTarget(T("rps", 20), [rep("a", { rps: 5 }), rep("b", { rps: 5 }), rep("c", { rps: 5 }, 1000), rep("d", {}, null)], 4).replicas).toBe(1);
  });

  it("only young replicas: no recommendation (nothing counts)", () => {
    expect(recommendForTarget(T("rps", 20), [rep("a", { rps: 100 }, 1000)], 1)).toMatchObject({ replicas: null, counted: 0, young: 1 });
    expect(recommendForTarget(T("rps", 20), [], 0)).toMatchObject({ replicas: null, note: "no replicas" });
  });

  it("a replica with no figures never flips the direction", () => {
    // scale-up (usage 2): the missing one counts as 0 → average (40+40+0)/3/20 = 1.33 → ceil(3 × 1.33) = 4, still up
    expect(recommendForTarget(T("rps", 20), rps(40, 40, null), 3).replicas).toBe(4);
    // a mild scale-up (usage 1.2) the stand-in 0 would turn into a scale-down: the count stays
    const flip = recommendForTarget(T("rps", 20), rps(24, 24, null), 3);
    expect(flip.replicas).toBe(3);
    expect(flip.note).toMatch(/direction would flip/);
    // scale-down (usage 0.25): the missing one counts as the target → (5+5+20)/3/20 = 0.5 → ceil(3 × 0.5) = 2
    expect(recommendForTarget(T("rps", 20), rps(5, 5, null), 3).replicas).toBe(2);
    // a mild scale-down (usage 0.85) the stand-in brings within tolerance: stays
    expect(recommendForTarget(T("rps", 20), rps(17, 17, null), 3).replicas).toBe(3);
    // every figure missing: no recommendation at all
    expect(recommendForTarget(T("p95", 200), [rep("a", { p95: null }), rep("b", {})], 2).replicas).toBeNull();
  });
});

describe("decide: targets, window, rate, bounds", () => {
  it("the largest recommendation over the targets wins, and the reason names it", () => {
    const replicas = [rep("a", { rps: 5, p95: 420 }), rep("b", { rps: 5, p95: 420 }), rep("c", { rps: 5, p95: 420 })];
    const d = decide(input({ replicas, settings: { minReplicas: 1, maxReplicas: 20, windowS: 300, targets: [T("rps", 10), T("p95", 200)] } }));
    expect(d.targets.map((t) => t.replicas)).toEqual([2, 7]);
    expect(d).toMatchObject({ current: 3, desired: 7, direction: "up", recommendation: 7 });
    expect(d.reason).toBe("p95 420 ms > target 200 ms: 3 → 7");
  });

  it("scales up at once, at most double or +4 per step, whichever is larger", () => {
    // 2 replicas at 100 req/s, target 10: wants 20; max(2×2, 2+4) = 6
    const d = decide(input({ replicas: rps(100, 100) }));
    expect(d).toMatchObject({ desired: 6, limitedBy: "rate", recommendation: 20 });
    expect(d.reason).toContain("at most double or +4 per 15 s; wanted 20");
    // 10 replicas: double (20) allows more than +4 (14)
    expect(decide(input({ replicas: rps(...Array(10).fill(100)) })).desired).toBe(20);
    // the period counts from its start: 2 → 6 five seconds ago, now at 6 the limit is still 6 (from 2)
    const changes: ScaleChange[] = [{ at: NOW - 5000, from: 2, to: 6 }];
    expect(decide(input({ replicas: rps(...Array(6).fill(100)), changes })).desired).toBe(6);
    // after the 15 s period it may grow again: max(12, 10) = 12
    expect(decide(input({ replicas: rps(...Array(6).fill(100)), changes: [{ at: NOW - 16_000, from: 2, to: 6 }] })).desired).toBe(12);
  });

  it("scales down only to the highest recommendation of the window", () => {
    const recent: Recommendation[] = [
      { at: NOW - 280_000, replicas: 5 },
      { at: NOW - 100_000, replicas: 4 },
      { at: NOW - 301_000, replicas: 9 }, // outside the 300 s window
    ];
    const d = decide(input({ replicas: rps(1, 1, 1, 1, 1, 1), recommendations: recent }));
    expect(d).toMatchObject({ current: 6, recommendation: 1, desired: 5, direction: "down", limitedBy: "window" });
    expect(d.reason).toContain("the highest recommendation of the last 300 s is 5");
    // the remembered list drops what left the window and keeps this one
    expect(d.recommendations).toEqual([recent[0], recent[1], { at: NOW, replicas: 1 }]);
    // a higher recommendation than the current count in the window: no scale-down at all
    expect(decide(input({ replicas: rps(1, 1, 1), recommendations: [{ at: NOW - 10_000, replicas: 7 }] }))).toMatchObject({ desired: 3, direction: "none" });
  });

  it("the demo window of 30 s: a recommendation of 31 s ago no longer holds", () => {
    const settings = { minReplicas: 2, maxReplicas: 10, windowS: 30, targets: [T("rps", 10)] };
    const held = decide(input({ settings, replicas: rps(0, 0, 0, 0, 0), recommendations: [{ at: NOW - 29_000, replicas: 5 }] }));
    expect(held.desired).toBe(5);
    const free = decide(input({ settings, replicas: rps(0, 0, 0, 0, 0), recommendations: [{ at: NOW - 31_000, replicas: 5 }] }));
    expect(free).toMatchObject({ desired: 2, direction: "down", limitedBy: "min" });
  });

  it("a series of calls: up at once, held while the window remembers, down after it (2 → 5 → 2)", () => {
    const settings = { minReplicas: 2, maxReplicas: 6, windowS: 30, targets: [T("rps", 20)] };
    let recs: Recommendation[] = [];
    let current = 2;
    const step = (t: number, each: number) => {
      const d = decide({ now: t, settings, current, replicas: rps(...Array(current).fill(each)), recommendations: recs, changes: [] });
      recs = d.recommendations;
      current = d.desired;
      return d.desired;
    };
    expect(step(0, 45)).toBe(5); // 90 req/s over 2
    expect(step(3_000, 18)).toBe(5); // 90 over 5: within tolerance
    expect(step(6_000, 0)).toBe(5); // load gone: held by the window (5 at 3 s)
    expect(step(32_000, 0)).toBe(5); // 5 at 3 s still inside (32 - 30 = 2)
    expect(step(36_000, 0)).toBe(2); // the window has only the 0s
  });

  it("keeps the count within min and max, with no figures too", () => {
    expect(decide(input({ replicas: rps(null), current: 1, settings: { minReplicas: 2, maxReplicas: 5, windowS: 300, targets: [T("rps", 10)] } }))).toMatchObject({
      desired: 2,
      recommendation: null,
      limitedBy: "min",
      reason: "no figures: 1 → 2 (no figures yet; the minimum is 2)",
    });
    expect(decide(input({ replicas: rps(10, 10, 10, 10, 10, 10, 10), settings: { minReplicas: 1, maxReplicas: 5, windowS: 300, targets: [T("rps", 10)] } }))).toMatchObject({ desired: 5, limitedBy: "max" });
    expect(decide(input({ replicas: rps(100, 100), settings: { minReplicas: 1, maxReplicas: 3, windowS: 300, targets: [T("rps", 10)] } })).reason).toBe(
      "rps/replica 100 req/s > target 10 req/s: 2 → 3 (the maximum is 3; wanted 20)",
    );
  });

  it("CPU, memory and in-flight targets read their own figures", () => {
    const replicas = [rep("a", { cpu: 90, memory: 30, inflight: 1 }), rep("b", { cpu: 90, memory: 30, inflight: 1 })];
    const settings = { minReplicas: 1, maxReplicas: 20, windowS: 300, targets: [T("cpu", 60), T("memory", 80), T("inflight", 4)] };
    const d = decide(input({ replicas, settings }));
    expect(d.targets.map((t) => [t.metric, t.replicas])).toEqual([
      ["cpu", 3],
      ["memory", 1],
      ["inflight", 1],
    ]);
    expect(d.desired).toBe(3);
    expect(d.reason).toBe("CPU 90 % > target 60 %: 2 → 3");
  });
});

describe("autoscaleSettingsSchema", () => {
  it("accepts the defaults and a demo window, refuses nonsense", () => {
    expect(autoscaleSettingsSchema.parse(defaultAutoscaleSettings())).toEqual(defaultAutoscaleSettings());
    expect(autoscaleSettingsSchema.safeParse({ ...defaultAutoscaleSettings(), windowS: 30, enabled: true }).success).toBe(true);
    const bad = [
      { ...defaultAutoscaleSettings(), minReplicas: 5, maxReplicas: 2 },
      { ...defaultAutoscaleSettings(), enabled: true, targets: [] },
      { ...defaultAutoscaleSettings(), windowS: 3601 },
      { ...defaultAutoscaleSettings(), targets: [T("rps", 0)] },
      { ...defaultAutoscaleSettings(), targets: [T("rps", 5), T("rps", 6)] },
      { ...defaultAutoscaleSettings(), targets: [T("memory", 150)] },
      { ...defaultAutoscaleSettings(), extra: 1 },
      { ...defaultAutoscaleSettings(), targets: [{ metric: "qps", value: 3 }] },
    ];
    for (const b of bad) expect(autoscaleSettingsSchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
  });
});
