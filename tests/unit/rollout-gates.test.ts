import { describe, expect, it } from "vitest";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import { gatePolicySchema, newShareOf, rolloutRequestSchema, rolloutSteps, specVersion, splitWeights, type VersionFigures } from "@/lib/core/rollout";
import { evaluateGates, versionFigures, type Side } from "@/lib/rollout/gates";

const policy = gatePolicySchema.parse({});
const figs = (requests: number, errors: number, p95Ms: number | null = 10, healthy = 1, replicas = 1): VersionFigures => ({ requests, errors, p95Ms, healthy, replicas });

describe("evaluateGates", () => {
  it("a version answering 30 % errors fails the error-rate gate, the figures in the message", () => {
    const v = evaluateGates({ figures: { new: figs(100, 30), old: figs(200, 0) }, policy, holdDone: false });
    expect(v.verdict).toBe("fail");
    expect(v.gate).toBe("error-rate");
    expect(v.message).toContain("30.0 %");
    expect(v.message).toContain("30/100");
  });

  it("errors the old version has too (same moment) are not blamed on the new one", () => {
    expect(evaluateGates({ figures: { new: figs(100, 30), old: figs(200, 56) }, policy, holdDone: true }).verdict).toBe("pass");
  });

  it("never passes on no data: too few requests waits, even after the hold", () => {
    const v = evaluateGates({ figures: { new: figs(10, 0), old: figs(20, 0) }, policy, holdDone: true });
    expect(v).toMatchObject({ verdict: "wait", gate: "min-requests" });
    expect(evaluateGates({ figures: { new: figs(0, 0), old: figs(0, 0) }, policy, holdDone: true }).verdict).toBe("wait");
  });

  it("a quiet service passes on health checks alone only when allowed and only after its hold", () => {
    const quiet = gatePolicySchema.parse({ passOnHealthWhenQuiet: true });
    expect(evaluateGates({ figures: { new: figs(3, 0), old: figs(2, 0) }, policy: quiet, holdDone: false }).verdict).toBe("wait");
    const v = evaluateGates({ figures: { new: figs(3, 0), old: figs(2, 0) }, policy: quiet, holdDone: true });
    expect(v.verdict).toBe("pass");
    expect(v.message).toContain("health checks alone");
    // but not when a new replica fails its health check
    expect(evaluateGates({ figures: { new: figs(3, 0, 10, 0, 1), old: figs(2, 0) }, policy: quiet, holdDone: true }).verdict).toBe("fail");
  });

  it("a new replica out of rotation fails the health gate", () => {
    expect(evaluateGates({ figures: { new: figs(500, 0, 10, 1, 2), old: figs(500, 0) }, policy, holdDone: true })).toMatchObject({ verdict: "fail", gate: "health" });
    // no figures of the new version yet (the collector has not read it): wait, never a pass
    expect(evaluateGates({ figures: { new: figs(0, 0, null, 0, 0), old: figs(500, 0) }, policy, holdDone: true })).toMatchObject({ verdict: "wait", gate: "health" });
  });

  it("p95 above old × ratio + slack fails; without a figure on either side the gate says nothing", () => {
    expect(evaluateGates({ figures: { new: figs(100, 0, 400), old: figs(100, 0, 100) }, policy, holdDone: true })).toMatchObject({ verdict: "fail", gate: "p95" });
    expect(evaluateGates({ figures: { new: figs(100, 0, 190), old: figs(100, 0, 100) }, policy, holdDone: true }).verdict).toBe("pass");
    expect(evaluateGates({ figures: { new: figs(100, 0, 400), old: figs(100, 0, null) }, policy, holdDone: true }).verdict).toBe("pass");
  });

  it("good figures hold until the step's time is up, then pass", () => {
    expect(evaluateGates({ figures: { new: figs(100, 1), old: figs(100, 0) }, policy, holdDone: false })).toMatchObject({ verdict: "wait", gate: null });
    expect(evaluateGates({ figures: { new: figs(100, 1), old: figs(100, 0) }, policy, holdDone: true }).verdict).toBe("pass");
  });
});

const rt = (replicaId: string, rps: number, e5: number, inRotation = true, buckets?: Record<string, number>): ReplicaTick =>
  ({ replicaId, rps, errors: { "4xx": 0, "5xx": e5, conn: 0 }, share: 0, latency: { p50: null, p95: null, p99: null, avg: null }, ...(buckets ? { latencyBuckets: buckets } : {}), activeConnections: 0, health: { status: "up", reason: null, lastChangeMs: null }, inRotation, memoryMb: null, memoryLimitMb: null, cpuPercent: null }) as ReplicaTick;
const tick = (t: number, replicas: ReplicaTick[]): ServiceTick => ({ t, serviceId: "s", rps: 0, errors: { "4xx": 0, "5xx": 0, conn: 0 }, latency: { p50: null, p95: null, p99: null }, replicas, desired: 3 });

describe("versionFigures", () => {
  const side = (id: string): Side | null => (id.startsWith("n") ? "new" : id.startsWith("o") ? "old" : null);
  it("sums each version's requests and errors over the ticks, counts replicas in rotation at the last tick", () => {
    const f = versionFigures([tick(1, [rt("n1", 10, 3), rt("o1", 40, 0), rt("gone", 5, 5)]), tick(2, [rt("n1", 12, 4), rt("o1", 38, 1), rt("o2", 0, 0, false)])], side);
    expect(f.new).toMatchObject({ requests: 22, errors: 7, replicas: 1, healthy: 1 });
    expect(f.old).toMatchObject({ requests: 78, errors: 1, replicas: 2, healthy: 1 });
  });
  it("a replica out of rotation for the last 3 ticks is unhealthy; out for one tick it is not", () => {
    const out = (id: string) => rt(id, 0, 0, false);
    const blip = versionFigures([tick(1, [rt("n1", 1, 0)]), tick(2, [rt("n1", 1, 0)]), tick(3, [out("n1")])], side);
    expect(blip.new).toMatchObject({ replicas: 1, healthy: 1 });
    const down = versionFigures([tick(1, [rt("n1", 1, 0)]), tick(2, [out("n1")]), tick(3, [out("n1")]), tick(4, [out("n1")])], side);
    expect(down.new).toMatchObject({ replicas: 1, healthy: 0 });
  });
  it("attempts HAProxy retried elsewhere count as errors of the replica that failed them", () => {
    const withRetries = (id: string, rps: number, retries: number) => ({ ...rt(id, rps, 0), server: { retries } }) as unknown as ReplicaTick;
    const f = versionFigures([tick(1, [withRetries("n1", 10, 100)]), tick(2, [withRetries("n1", 10, 103)]), tick(3, [withRetries("n1", 10, 2)])], side);
    // 3 more, then a reset (a reload) to 2: 2 more
    expect(f.new).toMatchObject({ requests: 30, errors: 5 });
  });
  it("a p95 from the merged latency buckets", () => {
    const f = versionFigures([tick(1, [rt("n1", 100, 0, true, { "10": 90, "100": 10 }), rt("o1", 100, 0, true, { "10": 100 })])], side);
    expect(f.new.p95Ms).not.toBeNull();
    expect(f.new.p95Ms!).toBeGreaterThan(f.old.p95Ms!);
  });
});

describe("steps and weights", () => {
  it("canary: 10 % then 50 % of 4 replicas: 1 then 2 new beside the 4 old", () => {
    expect(rolloutSteps({ strategy: "canary", weights: [10, 50], batchSize: 1 }, 4)).toEqual([
      { newReplicas: 1, oldReplicas: 4, newWeightPercent: 10 },
      { newReplicas: 2, oldReplicas: 4, newWeightPercent: 50 },
    ]);
  });
  it("rolling: batches of 2 over 5 replicas, the last batch smaller", () => {
    expect(rolloutSteps({ strategy: "rolling", weights: [], batchSize: 2 }, 5).map((s) => [s.newReplicas, s.oldReplicas])).toEqual([[2, 3], [4, 1], [5, 0]]);
  });
  it("splitWeights gives the share asked for (within a weight's rounding)", () => {
    for (const [p, n, o] of [[10, 1, 2], [50, 1, 2], [50, 2, 4], [90, 1, 3], [25, 3, 1]]) {
      const w = splitWeights(p, n, o);
      expect(w.newWeight).toBeGreaterThanOrEqual(1);
      expect(w.oldWeight).toBeGreaterThanOrEqual(1);
      expect(Math.max(w.newWeight, w.oldWeight)).toBe(100);
      expect(Math.abs(newShareOf(w.newWeight, n, w.oldWeight, o) - p)).toBeLessThan(1);
    }
  });
  it("the version is a hash of image, command and environment, whatever the env's key order", () => {
    const a = specVersion({ image: null, command: null, env: { A: "1", B: "2" } });
    expect(a).toBe(specVersion({ image: null, command: null, env: { B: "2", A: "1" } }));
    expect(a).not.toBe(specVersion({ image: null, command: null, env: { A: "1", B: "3" } }));
  });
  it("the request's weights must rise", () => {
    expect(rolloutRequestSchema.safeParse({ strategy: "canary", weights: [50, 10] }).success).toBe(false);
    expect(rolloutRequestSchema.safeParse({ strategy: "canary", weights: [10, 50], env: { ERROR_RATE: "30" } }).success).toBe(true);
  });
});
