import { describe, expect, it } from "vitest";
import { bucketDelta, counterDelta, percentileBucket, percentileFromBuckets, Ring, sparseBuckets } from "@/lib/core/rates";
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

  it("sparse buckets keep each non-zero bucket and its lower edge, so percentiles read the same", () => {
    const full = { "1": 0, "2": 0, "5": 3, "10": 0, "25": 0, "250": 0, "500": 10, "1000": 0, "+Inf": 0 };
    const sparse = sparseBuckets(full);
    expect(sparse).toEqual({ "2": 0, "5": 3, "250": 0, "500": 10 });
    for (const q of [0.1, 0.5, 0.95, 0.99]) expect(percentileFromBuckets(sparse, q)).toBe(percentileFromBuckets(full, q));
    expect(sparseBuckets({ "1": 2, "2": 0, "+Inf": 1, "10000": 0 })).toEqual({ "1": 2, "10000": 0, "+Inf": 1 });
    expect(sparseBuckets({ "1": 0, "5": 0 })).toEqual({});
  });

  it("the bucket a percentile falls in is what buckets can say for sure", () => {
    const b = { "250": 0, "500": 10, "5": 90, "2": 0 };
    expect(percentileBucket(b, 0.5)).toEqual({ lower: 2, upper: 5 });
    expect(percentileBucket(b, 0.95)).toEqual({ lower: 250, upper: 500 });
    expect(percentileFromBuckets(b, 0.95)).toBe(375); // interpolated: a guess inside that bucket
    expect(percentileBucket({ "10000": 0, "+Inf": 3 }, 0.99)).toEqual({ lower: 10000, upper: Infinity });
    expect(percentileBucket({}, 0.5)).toBeNull();
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
