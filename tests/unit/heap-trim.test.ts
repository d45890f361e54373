import { describe, expect, it } from "vitest";
import { fullGc, HeapTrim } from "@/lib/process/heap-trim";

/** The panel's heap trim (lib/process/heap-trim.ts): a full GC when the heap grew past the threshold since the last one. */
describe("HeapTrim", () => {
  it("collects only when the heap grew by the threshold since what the last collection left", () => {
    let used = 100;
    let collections = 0;
    const live = 70;
    const trim = new HeapTrim(() => ((collections += 1), (used = live)), () => used, 40);
    used = 139;
    expect(trim.check()).toBe(false); // 100 + 40 not reached
    used = 140;
    expect(trim.check()).toBe(true);
    expect(collections).toBe(1);
    expect(used).toBe(70);
    used = 109;
    expect(trim.check()).toBe(false); // measured from what the collection left (70), not from 140
    used = 110;
    expect(trim.check()).toBe(true);
    expect(trim.trims).toBe(2);
  });

  it("collects for real, with the gc() it gets without --expose-gc: the heap after is smaller than with the garbage", () => {
    const trim = new HeapTrim(fullGc(), () => process.memoryUsage().heapUsed, 1);
    let junk: object[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }));
    expect(junk.length).toBe(300_000);
    junk = null;
    const before = process.memoryUsage().heapUsed;
    expect(trim.check()).toBe(true);
    expect(process.memoryUsage().heapUsed).toBeLessThan(before);
  });
});
