import { describe, expect, it } from "vitest";
import { LATENCY_BUCKET_KEYS, latencyBucketIndex, latencyRecord, statusClass } from "@/lib/engines/builtin/counters";
import { type HealthState, initialHealth, isEligible, isUp, markPassiveDown, observeCheck, recordFailure, reportHealth } from "@/lib/engines/builtin/health";

const T0 = 1_000_000;

function run(results: boolean[], rise = 2, fall = 3, start: HealthState = initialHealth(T0)): HealthState[] {
  const out: HealthState[] = [];
  let s = start;
  results.forEach((ok, i) => {
    s = observeCheck(s, ok, ok ? "HTTP 200" : "HTTP 503", T0 + (i + 1) * 100, rise, fall);
    out.push(s);
  });
  return out;
}

describe("active check state machine", () => {
  it("starts up and goes down after `fall` consecutive failures", () => {
    const states = run([false, false, false], 2, 3);
    expect(states.map(isUp)).toEqual([true, true, false]);
    expect(states[2].changedAt).toBe(T0 + 300);
    expect(states[2].reason).toBe("HTTP 503");
  });

  it("a success in between resets the count", () => {
    expect(run([false, false, true, false, false], 2, 3).map(isUp)).toEqual([true, true, true, true, true]);
  });

  it("comes back after `rise` consecutive successes", () => {
    const states = run([false, false, true, false, true, true], 2, 2);
    expect(states.map(isUp)).toEqual([true, false, false, false, false, true]);
    expect(states[5].changedAt).toBe(T0 + 600);
  });

  it("keeps changedAt while the status holds", () => {
    const states = run([true, true, true]);
    expect(states.every((s) => s.changedAt === T0)).toBe(true);
  });
});

describe("passive failures", () => {
  it("trip after maxFails within the window only", () => {
    let times: number[] = [];
    const trips: boolean[] = [];
    for (const t of [0, 4000, 15_000, 16_000, 17_000]) {
      const r = recordFailure(times, T0 + t, 10_000, 3);
      times = r.times;
      trips.push(r.tripped);
    }
    expect(trips).toEqual([false, false, false, false, true]);
  });

  it("never trip with maxFails 0 and keep no history", () => {
    const r = recordFailure([T0], T0 + 1, 10_000, 0);
    expect(r).toEqual({ times: [], tripped: false });
  });

  it("take the server down until the next good active check", () => {
    let s = markPassiveDown(initialHealth(T0), "passive: 3 failures", T0 + 50);
    expect(isUp(s)).toBe(false);
    expect(s.changedAt).toBe(T0 + 50);
    expect(reportHealth("ready", s, T0 + 60)).toEqual({ status: "down", reason: "passive: 3 failures", lastChangeMs: 10 });
    s = observeCheck(s, false, "HTTP 500", T0 + 100, 2, 3);
    expect(isUp(s)).toBe(false);
    s = observeCheck(s, true, "HTTP 200", T0 + 200, 2, 3);
    expect(isUp(s)).toBe(true);
    expect(s.changedAt).toBe(T0 + 200);
  });
});

describe("reported status and eligibility", () => {
  const up = initialHealth(T0);
  const down = run([false, false], 2, 2)[1];

  it("maint wins, then down, then drain", () => {
    expect(reportHealth("maint", down, T0).status).toBe("maint");
    expect(reportHealth("drain", down, T0).status).toBe("down");
    expect(reportHealth("drain", up, T0).status).toBe("drain");
    expect(reportHealth("ready", up, T0).status).toBe("up");
  });

  it("only ready and up servers take new requests", () => {
    expect(isEligible("ready", up)).toBe(true);
    expect(isEligible("drain", up)).toBe(false);
    expect(isEligible("maint", up)).toBe(false);
    expect(isEligible("ready", down)).toBe(false);
  });
});

describe("counters", () => {
  it("puts durations in the fixed buckets (upper bound inclusive)", () => {
    expect(LATENCY_BUCKET_KEYS).toEqual(["1", "2", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "+Inf"]);
    expect(latencyBucketIndex(0.3)).toBe(0);
    expect(latencyBucketIndex(1)).toBe(0);
    expect(latencyBucketIndex(1.01)).toBe(1);
    expect(latencyBucketIndex(99)).toBe(6);
    expect(latencyBucketIndex(10_000)).toBe(12);
    expect(latencyBucketIndex(10_001)).toBe(13);
  });

  it("names every bucket in the record", () => {
    const counts = LATENCY_BUCKET_KEYS.map((_, i) => i);
    expect(latencyRecord(counts)).toMatchObject({ "1": 0, "250": 7, "+Inf": 13 });
  });

  it("classes statuses", () => {
    expect([101, 204, 302, 404, 503, 99, 600].map(statusClass)).toEqual(["1xx", "2xx", "3xx", "4xx", "5xx", "other", "other"]);
  });
});
