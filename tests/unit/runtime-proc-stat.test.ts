import { describe, expect, it } from "vitest";
import { cpuPercentBetween, parseProcStat, parseVmRssBytes } from "@/lib/process/proc-stat";

// Captured from a Linux 6.x /proc/<pid>/stat; session=3890 utime=120 stime=30 starttime=72225.
const STAT =
  "15073 (node) S 15071 15071 3890 0 -1 4194304 99 0 0 0 120 30 0 0 20 0 11 0 72225 3133440 396 18446744073709551615 94704610856960 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

describe("parseProcStat", () => {
  it("reads state, CPU ticks, start time and session", () => {
    expect(parseProcStat(STAT)).toEqual({ state: "S", cpuTicks: 150, startTicks: 72225, session: 3890, rssPages: 396 });
  });

  it("counts fields after the last parenthesis, so odd command names do not shift them", () => {
    const odd = STAT.replace("(node)", "(my (weird) name)");
    expect(parseProcStat(odd)).toEqual({ state: "S", cpuTicks: 150, startTicks: 72225, session: 3890, rssPages: 396 });
  });

  it("sees a zombie", () => {
    expect(parseProcStat(STAT.replace(") S ", ") Z "))?.state).toBe("Z");
  });

  it("returns null on text that is not a stat line", () => {
    expect(parseProcStat("")).toBeNull();
    expect(parseProcStat("12 (x) S 1 2")).toBeNull();
  });
});

describe("parseVmRssBytes", () => {
  it("reads VmRSS in kB as bytes", () => {
    const status = "Name:\tnode\nState:\tS (sleeping)\nVmPeak:\t  999 kB\nVmRSS:\t   45312 kB\nRssAnon:\t 30000 kB\n";
    expect(parseVmRssBytes(status)).toBe(45312 * 1024);
  });

  it("is null when the line is missing (zombie, kernel thread)", () => {
    expect(parseVmRssBytes("Name:\tkthreadd\nState:\tS\n")).toBeNull();
  });
});

describe("cpuPercentBetween", () => {
  it("one core busy for the whole interval is 100%", () => {
    // 100 ticks at 100 ticks/s = 1 s of CPU in 1 s of wall time
    expect(cpuPercentBetween({ cpu: 1000, atMs: 5000 }, { cpu: 1100, atMs: 6000 }, 100)).toBe(100);
  });

  it("a quarter of a core", () => {
    expect(cpuPercentBetween({ cpu: 1000, atMs: 0 }, { cpu: 1050, atMs: 2000 }, 100)).toBe(25);
  });

  it("two cores busy is 200%", () => {
    expect(cpuPercentBetween({ cpu: 0, atMs: 0 }, { cpu: 1e9, atMs: 500 }, 1e9)).toBe(200);
  });

  it("works on nanosecond counters (cgroups)", () => {
    expect(cpuPercentBetween({ cpu: 2e9, atMs: 10_000 }, { cpu: 2.5e9, atMs: 11_000 }, 1e9)).toBeCloseTo(50);
  });

  it("is 0 for an empty interval or a counter that went backwards (restarted process)", () => {
    expect(cpuPercentBetween({ cpu: 100, atMs: 1000 }, { cpu: 200, atMs: 1000 }, 100)).toBe(0);
    expect(cpuPercentBetween({ cpu: 500, atMs: 0 }, { cpu: 10, atMs: 1000 }, 100)).toBe(0);
  });

  it("measures since process start when the first sample is the start itself", () => {
    // started 72225 ticks after boot; uptime now 752.25 s; 3005 ticks of CPU => 30.05 s / 30 s
    const start = { cpu: 0, atMs: (72225 / 100) * 1000 };
    expect(cpuPercentBetween(start, { cpu: 3005, atMs: 752_250 }, 100)).toBeCloseTo(100.1667, 3);
  });
});
