import { describe, expect, it } from "vitest";
import { bucketDelta, counterDelta, percentileFromBuckets, Ring } from "@/lib/core/rates";
import { rulesSchema } from "@/lib/core/rules";
import { summarizeRulesChange } from "@/lib/core/rules-summary";

describe("rates", () => {
  it("counter deltas tolerate resets (engine reload)", () => {
    expect(counterDelta(undefined, 50)).toBe(0);
    expect(counterDelta(100, 130)).toBe(30);
    expect(counterDelta(100, 7)).toBe(7); // reset: the counter restarted from 0
  });

  it("percentiles from bucket counts", () => {
    expect(percentileFromBuckets({}, 0.5)).toBeNull();
    const b = { "1": 0, "5": 50, "10": 40, "100": 10, "+Inf": 0 };
    expect(percentileFromBuckets(b, 0.5)).toBe(5);
    expect(percentileFromBuckets(b, 0.9)).toBe(10);
    expect(percentileFromBuckets(b, 0.95)).toBeCloseTo(55, 0);
    expect(percentileFromBuckets({ "+Inf": 3, "10": 1 }, 0.99)).toBe(10);
  });

  it("bucket deltas, with a reset", () => {
    expect(bucketDelta({ "1": 2, "5": 3 }, { "1": 5, "5": 3 })).toEqual({ "1": 3, "5": 0 });
    expect(bucketDelta({ "1": 9, "5": 3 }, { "1": 1, "5": 0 })).toEqual({ "1": 1, "5": 0 });
    expect(bucketDelta(undefined, { "1": 4 })).toEqual({ "1": 0 });
  });

  it("a ring keeps the newest points", () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.last(10)).toEqual([3, 4, 5]);
    expect(ring.last(2)).toEqual([4, 5]);
    expect(ring.length).toBe(3);
  });
});

describe("summarizeRulesChange", () => {
  it("names what changed", () => {
    const a = rulesSchema.parse({});
    expect(summarizeRulesChange(a, a)).toBe("no change");
    const b = rulesSchema.parse({ algorithm: "least_conn", sticky: { mode: "cookie" }, route: { host: "x.local" } });
    expect(summarizeRulesChange(a, b)).toBe("algorithm round_robin → least_conn, sticky none → cookie, route");
  });
});
