import type { ReactNode } from "react";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import type { Marker } from "@/components/charts/markers";
import { nearestRow } from "@/components/charts/svg-paths";

/** The live window: the last 5 minutes of 1-second points. */
export const WINDOW_MS = 300_000;

/** A replica's series: its colour and its second cue (dash of its line, hatch of its band). */
export type Series = { id: string; label: string; color: string; dash?: string; fill?: string };

/** What a chart shows: which points, over which window, with which event markers. */
export type ChartWindow = {
  history: ServiceTick[];
  /** the right edge of the x axis (ms) */
  end: number;
  /** the width of the x axis (ms) */
  rangeMs: number;
  /** the points' spacing: the crosshair snaps to it */
  stepMs: number;
  markers: readonly Marker[];
};

/** Where the plot area sits inside a chart's box, in px: the y axis labels on the left, the x axis labels below. */
export const PLOT_BOX = { left: 52, right: 10, top: 6, bottom: 30 };

export type ReplicaRow = { t: number } & Record<string, number | null>;

type Pick = (r: ReplicaTick, tick: ServiceTick) => number | null;

// rows already built, per pick function and tick: a tick never changes once received, so
// each tick's row is built once (not 300 rows per chart per second); both maps are weak
const rowCache = new WeakMap<Pick, WeakMap<ServiceTick, ReplicaRow>>();

/**
 * One row per tick, one column per replica (keyed by its id) holding `pick(replica, tick)`.
 * Rows are remembered per (pick, tick): pass a pick that keeps its identity (a module
 * constant or a memoised callback) and only the newest tick's row is built each second.
 */
export function replicaRows(history: readonly ServiceTick[], pick: Pick): ReplicaRow[] {
  let cache = rowCache.get(pick);
  if (!cache) rowCache.set(pick, (cache = new WeakMap()));
  const out: ReplicaRow[] = new Array(history.length);
  for (let i = 0; i < history.length; i++) {
    const tick = history[i];
    let row = cache.get(tick);
    if (!row) {
      row = { t: tick.t };
      for (const r of tick.replicas) row[r.replicaId] = pick(r, tick);
      cache.set(tick, row);
    }
    out[i] = row;
  }
  return out;
}

/** Tick spacing of the x axis per window width: about five labels whatever the range. */
function tickStep(rangeMs: number): number {
  if (rangeMs <= 5 * 60_000) return 60_000;
  if (rangeMs <= 15 * 60_000) return 5 * 60_000;
  if (rangeMs <= 60 * 60_000) return 15 * 60_000;
  return 6 * 3600_000;
}

/** The x axis: a fixed window of `rangeMs` ending at `end`, labelled relative to that end ("-5m", "-1h", "now"). */
export function timeAxis(end: number | null, rangeMs = WINDOW_MS) {
  const right = end ?? 0;
  const start = right - rangeMs;
  const step = tickStep(rangeMs);
  const ticks: number[] = [];
  for (let t = right; t >= start; t -= step) ticks.unshift(t);
  return {
    domain: [start, right] as [number, number],
    ticks,
    format: (t: number) => {
      const s = Math.round((t - right) / 1000);
      if (s === 0) return "now";
      return Math.abs(s) >= 3600 ? `${s / 3600}h` : `${s / 60}m`;
    },
  };
}

/** About five round ticks from 0 to at least `max` (1, 2, 5 × 10^n or powers of two for MB). */
export function niceTicks(max: number, binary = false): number[] {
  const top = Math.max(max, 1);
  const target = top / 4;
  let step: number;
  if (binary) {
    step = 1;
    while (step < target) step *= 2;
  } else {
    const p = 10 ** Math.floor(Math.log10(target));
    step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= target) ?? 10 * p;
  }
  const ticks: number[] = [];
  for (let i = 0; i * step < top + step; i++) ticks.push(Math.round(i * step * 1e6) / 1e6);
  return ticks;
}

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  if (Math.abs(n) >= 100) return Math.round(n).toString();
  return n.toFixed(digits).replace(/\.0+$/, "");
}

// one formatter for the page: toLocaleTimeString builds a new one per call (the top of the
// service page's profile with 50 replicas: 30 ms a second in the health lanes' titles)
let clockFormat: Intl.DateTimeFormat | null = null;

/** The time of day of `t`, as `toLocaleTimeString([], { hour12: false })` gives it. */
export function clock(t: number): string {
  clockFormat ??= new Intl.DateTimeFormat(undefined, { hour12: false, hour: "numeric", minute: "numeric", second: "numeric" });
  return clockFormat.format(t);
}

/** Title, unit, an HTML legend (with the newest value per series) and the chart. */
export function ChartFrame({
  title,
  unit,
  legend,
  note,
  children,
  testId,
}: {
  title: string;
  unit?: string;
  legend?: { label: string; color: string; value?: string; dashed?: boolean; dash?: string; fill?: string }[];
  note?: ReactNode;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <figure data-testid={testId} className="min-w-0 rounded-lg border border-zinc-200 bg-white p-3 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
      <figcaption className="mb-1 flex flex-wrap items-baseline justify-between gap-x-3">
        <span className="text-sm font-semibold">{title}</span>
        {unit && <span className="text-xs text-zinc-600 dark:text-zinc-400">{unit}</span>}
      </figcaption>
      {legend && legend.length > 0 && (
        <ul className="mb-1 flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-zinc-700 dark:text-zinc-300">
          {legend.map((l) => (
            <li key={l.label} className="inline-flex items-center gap-1">
              {l.fill ? (
                <svg width={14} height={10} aria-hidden className="shrink-0">
                  <rect width={14} height={10} rx={2} fill={l.fill} />
                </svg>
              ) : l.dash !== undefined ? (
                <svg width={18} height={8} aria-hidden className="shrink-0">
                  <line x1={0} y1={4} x2={18} y2={4} stroke={l.color} strokeWidth={2.5} strokeDasharray={l.dash || undefined} />
                </svg>
              ) : (
                <span className={`inline-block h-0.5 w-3 ${l.dashed ? "border-t-2 border-dashed bg-transparent" : ""}`} style={l.dashed ? { borderColor: l.color } : { backgroundColor: l.color, height: 8, width: 8, borderRadius: 2 }} />
              )}
              <span className="font-mono">{l.label}</span>
              {l.value !== undefined && <span className="tabular-nums text-zinc-900 dark:text-zinc-100">{l.value}</span>}
            </li>
          ))}
        </ul>
      )}
      {/* chart text (axis labels) in currentColor: zinc-600 on white is 7.2:1, zinc-400 on zinc-900 6.9:1 */}
      <div className="text-zinc-600 dark:text-zinc-400">{children}</div>
      {note && <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">{note}</p>}
    </figure>
  );
}

/** The crosshair's readout of a chart: each series' value in the row nearest `t` (series without a value there are left out; nothing when that row is more than `maxGapMs` away). */
export function rowReadout(rows: readonly ReplicaRow[], series: readonly { key: string; label: string; color: string }[], format: (v: number) => string, maxGapMs = Infinity) {
  return (t: number) => {
    const row = nearestRow(rows, t);
    if (!row || Math.abs(row.t - t) > maxGapMs) return [];
    const out: { label: string; color: string; value: string }[] = [];
    for (const s of series) {
      const v = row[s.key];
      if (typeof v === "number") out.push({ label: s.label, color: s.color, value: format(v) });
    }
    return out;
  };
}
