/**
 * The charts' pure pieces (issue 12, items 10, 13 and 14): stored minute points in
 * buckets per time range, the stacked chart's y scale, event markers and where they
 * sit, the x axis per range, the crosshair's snapping, the SVG paths, and the replica
 * palette (contrast in both themes, a second cue besides colour).
 */
import { describe, expect, it } from "vitest";
import type { SwitchyardEvent } from "@/lib/events";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import { bucketStoredPoints, stackedTop, TIME_RANGES, type StoredPoint } from "@/lib/core/metric-history";
import { chartMarkers, markerKindOf, placeMarkers, xFraction } from "@/components/charts/markers";
import { clock, replicaRows, rowReadout, timeAxis } from "@/components/charts/chart-frame";
import { timeAt } from "@/components/charts/time-plot";
import { areaPaths, linePath, nearestRow, scaleX, scaleY } from "@/components/charts/svg-paths";
import { contrast, REPLICA_PALETTE, styleOfSlot, textOn } from "@/components/charts/replica-colors";
import { dashList, tileOf } from "@/components/charts/canvas-fill";

const MIN = 60_000;
const point = (at: number, replicaId: string, over: Partial<StoredPoint> = {}): StoredPoint => ({ at, replicaId, rps: 10, errors: 0, p95Ms: 20, memoryMb: 50, healthy: 1, ...over });

describe("stored minute points in buckets", () => {
  it("averages rates, memory and health per replica and bucket, keeps the worst p95, sums the service", () => {
    const from = 100 * 5 * MIN;
    const points = [
      point(from, "a", { rps: 10, p95Ms: 20, memoryMb: 40, healthy: 1 }),
      point(from + MIN, "a", { rps: 30, p95Ms: 80, memoryMb: 60, healthy: 0 }),
      point(from + 2 * MIN, "a", { rps: 20, p95Ms: null, memoryMb: null, healthy: 1, errors: 3 }),
      point(from, "b", { rps: 40, healthy: 0.2 }),
      point(from + 5 * MIN, "a", { rps: 5 }),
    ];
    const ticks = bucketStoredPoints("s1", points, { from, to: from + 10 * MIN, bucketMs: 5 * MIN });
    expect(ticks.map((t) => t.t)).toEqual([from, from + 5 * MIN]);
    const [first, second] = ticks;
    const a = first.replicas.find((r) => r.replicaId === "a")!;
    const b = first.replicas.find((r) => r.replicaId === "b")!;
    expect(a.rps).toBe(20);
    expect(a.errors).toEqual({ "4xx": 0, "5xx": 1, conn: 0 });
    expect(a.latency.p95).toBe(80);
    expect(a.memoryMb).toBe(50);
    expect(a.inRotation).toBe(true); // up 2 of 3 minutes
    expect(a.health.reason).toBe("in rotation 67% of the time");
    expect(b.inRotation).toBe(false);
    expect(first.rps).toBe(60);
    expect(a.share + b.share).toBeCloseTo(1);
    expect(b.share).toBeCloseTo(40 / 60);
    expect(second.replicas.map((r) => r.replicaId)).toEqual(["a"]);
  });

  it("leaves out points outside [from, to) and aligns buckets to their size", () => {
    const from = 7 * MIN + 30_000;
    const ticks = bucketStoredPoints("s1", [point(6 * MIN, "a"), point(8 * MIN, "a"), point(9 * MIN, "a"), point(20 * MIN, "a")], { from, to: 20 * MIN, bucketMs: MIN });
    expect(ticks.map((t) => t.t)).toEqual([8 * MIN, 9 * MIN]);
  });

  it("keeps at most ~300 points per range", () => {
    for (const r of Object.values(TIME_RANGES)) expect(r.ms / r.bucketMs).toBeLessThanOrEqual(300);
  });
});

const tick = (t: number, rps: number, replicas: [string, number][]): ServiceTick => ({
  t,
  serviceId: "s1",
  rps,
  errors: { "4xx": 0, "5xx": 0, conn: 0 },
  latency: { p50: null, p95: null, p99: null },
  replicas: replicas.map(([replicaId, r]) => ({ replicaId, rps: r }) as ReplicaTick),
});

describe("the stacked requests chart's y scale", () => {
  it("reaches the stack when the replicas' bands sum past the service total", () => {
    expect(stackedTop([tick(0, 100, [["a", 60], ["b", 70]]), tick(1000, 50, [["a", 20]])])).toBe(130);
  });
  it("reaches the service total when it is the higher", () => {
    expect(stackedTop([tick(0, 200, [["a", 60], ["b", 70]])])).toBe(200);
    expect(stackedTop([])).toBe(0);
  });
});

const event = (id: number, kind: string, at: number, over: Partial<SwitchyardEvent> = {}): SwitchyardEvent => ({
  id,
  at: new Date(at).toISOString(),
  serviceId: "s1",
  replicaId: null,
  kind,
  level: "info",
  message: `${kind} ${id}`,
  actor: "tess",
  data: null,
  ...over,
});

describe("markers", () => {
  it("marks scaling, applies and faults, not other events", () => {
    expect(markerKindOf(event(1, "service.scaled", 0))).toBe("scale");
    expect(markerKindOf(event(1, "rules.applied", 0))).toBe("apply");
    expect(markerKindOf(event(1, "rules.failed", 0))).toBe("apply");
    expect(markerKindOf(event(1, "replica.action", 0, { data: { action: "faults" } }))).toBe("fault");
    expect(markerKindOf(event(1, "fault.started", 0, { data: { kind: "pause" } }))).toBe("fault");
    expect(markerKindOf(event(1, "fault.ended", 0))).toBe("fault");
    expect(markerKindOf(event(1, "replica.action", 0, { data: { action: "kill", signal: "SIGKILL" } }))).toBe("fault");
    expect(markerKindOf(event(1, "replica.action", 0, { data: { action: "stress-memory" } }))).toBe("fault");
    expect(markerKindOf(event(1, "replica.died", 0))).toBe("fault");
    expect(markerKindOf(event(1, "replica.action", 0, { data: { action: "clear" } }))).toBeNull();
    expect(markerKindOf(event(1, "replica.health", 0))).toBeNull();
    expect(markerKindOf(event(1, "auth.signin", 0))).toBeNull();
  });

  it("keeps this service's and engine-wide events inside the window, oldest first", () => {
    const events = [
      event(4, "rules.applied", 5000),
      event(3, "service.scaled", 2000),
      event(2, "service.scaled", 3000, { serviceId: "other" }),
      event(5, "engine.died", 4000, { serviceId: null }),
      event(1, "service.scaled", 500),
      event(6, "service.scaled", 11_000),
    ];
    const markers = chartMarkers(events, "s1", 1000, 10_000);
    expect(markers.map((m) => [m.id, m.kind])).toEqual([
      [3, "scale"],
      [5, "fault"],
      [4, "apply"],
    ]);
  });

  it("places a marker by its time across the axis and groups those too close to tell apart", () => {
    expect(xFraction(2500, [0, 10_000])).toBe(0.25);
    expect(xFraction(-1, [0, 10_000])).toBeNull();
    expect(xFraction(10_001, [0, 10_000])).toBeNull();
    const m = (id: number, t: number, kind: "scale" | "apply" = "apply") => ({ id, t, kind, text: "" });
    const placed = placeMarkers([m(1, 1000), m(2, 1100), m(3, 1150, "scale"), m(4, 5000)], [0, 10_000]);
    expect(placed.map((p) => [p.kind, p.x, p.items.map((i) => i.id)])).toEqual([
      ["apply", 0.1, [1, 2]],
      ["scale", 0.115, [3]],
      ["apply", 0.5, [4]],
    ]);
  });
});

describe("the x axis per range and the crosshair", () => {
  it("labels about five instants relative to the end, whatever the range", () => {
    const end = 100 * 3600_000;
    const fmt = (rangeMs: number) => {
      const a = timeAxis(end, rangeMs);
      return a.ticks.map(a.format);
    };
    expect(fmt(5 * MIN)).toEqual(["-5m", "-4m", "-3m", "-2m", "-1m", "now"]);
    expect(fmt(15 * MIN)).toEqual(["-15m", "-10m", "-5m", "now"]);
    expect(fmt(60 * MIN)).toEqual(["-1h", "-45m", "-30m", "-15m", "now"]);
    expect(fmt(24 * 60 * MIN)).toEqual(["-24h", "-18h", "-12h", "-6h", "now"]);
    expect(timeAxis(end, 24 * 60 * MIN).domain).toEqual([end - 24 * 3600_000, end]);
  });

  it("snaps the pointer's instant to the points' spacing, nothing outside the plot", () => {
    expect(timeAt(0.5, [0, 300_000], 1000)).toBe(150_000);
    expect(timeAt(0.50123, [0, 300_000], 1000)).toBe(150_000);
    expect(timeAt(0.5, [0, 3_600_000], 60_000)).toBe(1_800_000);
    expect(timeAt(-0.01, [0, 300_000], 1000)).toBeNull();
    expect(timeAt(1.01, [0, 300_000], 1000)).toBeNull();
  });

  it("reads each series' value at the row nearest the crosshair", () => {
    const rows = [
      { t: 0, a: 1, b: null },
      { t: 1000, a: 2, b: 5 },
      { t: 2000, a: 3, b: 6 },
    ];
    expect(nearestRow(rows, 1400)?.t).toBe(1000);
    expect(nearestRow(rows, 1600)?.t).toBe(2000);
    expect(nearestRow(rows, -50)?.t).toBe(0);
    expect(nearestRow([], 5)).toBeNull();
    const read = rowReadout(rows, [{ key: "a", label: "A", color: "#000" }, { key: "b", label: "B", color: "#111" }], (v) => `${v}/s`);
    expect(read(100)).toEqual([{ label: "A", color: "#000", value: "1/s" }]);
    expect(read(2100).map((l) => l.value)).toEqual(["3/s", "6/s"]);
    const near = rowReadout(rows, [{ key: "a", label: "A", color: "#000" }], String, 1500);
    expect(near(3400).map((l) => l.value)).toEqual(["3"]);
    expect(near(3600)).toEqual([]); // past the newest point by more than the gap: no stale values
  });
});

describe("chart rows, built once per tick", () => {
  const pickRps = (r: ReplicaTick) => r.rps;
  const pickDouble = (r: ReplicaTick) => r.rps * 2;
  it("gives the same row object for a tick already seen, a new one for a new tick, per pick", () => {
    const a = tick(1000, 3, [["r1", 1], ["r2", 2]]);
    const b = tick(2000, 5, [["r1", 4]]);
    const first = replicaRows([a], pickRps);
    expect(first).toEqual([{ t: 1000, r1: 1, r2: 2 }]);
    const second = replicaRows([a, b], pickRps);
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toEqual({ t: 2000, r1: 4 });
    // another pick function: its own rows
    const doubled = replicaRows([a, b], pickDouble);
    expect(doubled).toEqual([{ t: 1000, r1: 2, r2: 4 }, { t: 2000, r1: 8 }]);
    expect(doubled[0]).not.toBe(first[0]);
  });
  it("formats the time of day as toLocaleTimeString without 12-hour clock does", () => {
    for (const t of [0, 1_795_941_347_563, Date.UTC(2026, 10, 29, 23, 59, 59)]) expect(clock(t)).toBe(new Date(t).toLocaleTimeString([], { hour12: false }));
  });
});

describe("SVG paths", () => {
  const x = scaleX([0, 100], 0, 100);
  const y = scaleY(10, 0, 100);
  it("maps time and value onto the plot", () => {
    expect([x(0), x(50), x(100)]).toEqual([0, 50, 100]);
    expect([y(0), y(5), y(10), y(-3)]).toEqual([100, 50, 0, 100]);
  });

  it("breaks a line where a value is missing and holds it to the next point in step mode", () => {
    const rows = [
      { t: 0, a: 1 },
      { t: 10, a: 2 },
      { t: 20, a: null },
      { t: 30, a: 4 },
    ];
    expect(linePath(rows, "a", x, y)).toBe("M0 90L10 80M30 60");
    expect(linePath(rows.slice(0, 2), "a", x, y, true)).toBe("M0 90L10 90L10 80");
    expect(linePath(rows, "missing", x, y)).toBe("");
  });

  it("stacks bands: each starts where the one below ends", () => {
    const rows = [
      { t: 0, a: 2, b: 3 },
      { t: 10, a: 4, b: 1 },
    ];
    const [a, b] = areaPaths(rows, ["a", "b"], x, y);
    expect(a).toBe("M0 80L10 60L10 100L0 100Z");
    expect(b).toBe("M0 50L10 50L10 60L0 80Z");
  });
});

describe("replica palette", () => {
  it("keeps every colour at 3:1 or more against the light and the dark card", () => {
    for (const c of REPLICA_PALETTE) {
      expect(contrast(c, "#ffffff"), c).toBeGreaterThanOrEqual(3);
      expect(contrast(c, "#18181b"), c).toBeGreaterThanOrEqual(3);
    }
  });

  it("gives each of the first 36 slots its own colour and cue, and slots 3 and 6 a different dash", () => {
    const seen = new Set<string>();
    for (let s = 0; s < 36; s++) {
      const st = styleOfSlot(s);
      seen.add(`${st.color}|${st.dash}`);
    }
    expect(seen.size).toBe(36);
    expect(styleOfSlot(2).dash).not.toBe(styleOfSlot(5).dash);
    expect(styleOfSlot(2).color).not.toBe(styleOfSlot(5).color);
  });

  it("writes share labels in the colour that reads at 4.5:1 on each segment", () => {
    for (const c of REPLICA_PALETTE) expect(contrast(textOn(c), c), c).toBeGreaterThanOrEqual(4.5);
  });
});

describe("the canvas fills of a chart with many series (issue 18)", () => {
  it("names the same tile as the SVG pattern of a replica slot and of the error classes", () => {
    for (const slot of [0, 1, 2, 3, 9, 35]) {
      const st = styleOfSlot(slot);
      expect(tileOf(`url(#sy-replica-${slot})`)).toEqual({ color: st.color, hatch: st.hatch, rotate: st.hatch === "stripes" });
    }
    expect(tileOf("url(#sy-errors-5xx)")).toEqual({ color: "#e11d48", hatch: "stripes", rotate: true });
    expect(tileOf("url(#sy-errors-conn)")?.hatch).toBe("dots");
    expect(tileOf("#0072b2")).toBeNull();
    expect(tileOf("url(#sy-errors-nope)")).toBeNull();
    expect(tileOf("url(#sy-replica-1) x")).toBeNull();
  });

  it("turns an SVG dash array into canvas setLineDash's list", () => {
    expect(dashList("")).toEqual([]);
    expect(dashList(undefined)).toEqual([]);
    expect(dashList("7 3")).toEqual([7, 3]);
    expect(dashList("9 3 2 3")).toEqual([9, 3, 2, 3]);
    // an odd list repeats, as SVG does
    expect(dashList("4")).toEqual([4, 4]);
    for (const slot of [0, 1, 2, 3]) expect(dashList(styleOfSlot(slot).dash).length % 2).toBe(0);
  });
});
