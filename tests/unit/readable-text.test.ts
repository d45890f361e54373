import { describe, expect, it } from "vitest";
import { contrastRatio, DARK_TEXT, LIGHT_TEXT, readableTextOn } from "@/components/ui/readable-text";
import { REPLICA_PALETTE } from "@/components/charts/replica-colors";

describe("readable text on a colour", () => {
  it("computes WCAG contrast ratios", () => {
    expect(contrastRatio("#ffffff", "#000000")).toBeCloseTo(21, 5);
    expect(contrastRatio("#777777", "#777777")).toBeCloseTo(1, 5);
    // zinc-500 on white and on zinc-900 (the dark secondary text of issue 12, item 13)
    expect(contrastRatio("#71717b", "#ffffff")).toBeCloseTo(4.83, 2);
    expect(contrastRatio("#71717b", "#18181b")).toBeCloseTo(3.67, 2);
    expect(contrastRatio("#fff", "#0ea5e9")).toBeCloseTo(2.77, 2);
  });

  it("picks white on dark colours and zinc-950 on light ones", () => {
    expect(readableTextOn("#1e3a8a")).toBe(LIGHT_TEXT);
    expect(readableTextOn("#fde68a")).toBe(DARK_TEXT);
    expect(readableTextOn("#0ea5e9")).toBe(DARK_TEXT); // white is 2.8:1 on sky-500
  });

  it("every replica colour carries 11 px text at 4.5:1 or more with the text colour it picks", () => {
    const worst = Math.min(...REPLICA_PALETTE.map((c) => contrastRatio(readableTextOn(c), c)));
    expect(worst).toBeGreaterThanOrEqual(4.5);
  });

  it("refuses what is not a hex colour", () => {
    expect(() => readableTextOn("oklch(0.5 0.1 200)")).toThrow(/not a #rrggbb/);
  });
});
