import type { ReactNode } from "react";

/** Time window every live chart shows: the last 5 minutes of 1-second points. */
export const WINDOW_MS = 300_000;

import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";

export type Series = { id: string; label: string; color: string };

export type ReplicaRow = { t: number } & Record<string, number | null>;

/** One row per tick, one column per replica (keyed by its id) holding `pick(replica, tick)`. */
export function replicaRows(history: ServiceTick[], pick: (r: ReplicaTick, tick: ServiceTick) => number | null): ReplicaRow[] {
  return history.map((tick) => {
    const row: ReplicaRow = { t: tick.t };
    for (const r of tick.replicas) row[r.replicaId] = pick(r, tick);
    return row;
  });
}

/** The x axis: fixed 5-minute window ending at the newest point, ticks every minute, labelled relative to now. */
export function timeAxis(lastT: number | null) {
  const end = lastT ?? 0;
  const start = end - WINDOW_MS;
  const ticks = [0, 1, 2, 3, 4, 5].map((m) => start + m * 60_000);
  return {
    domain: [start, end] as [number, number],
    ticks,
    format: (t: number) => {
      const s = Math.round((t - end) / 1000);
      return s === 0 ? "now" : `${s / 60}m`;
    },
  };
}

export const axisProps = {
  stroke: "currentColor",
  strokeOpacity: 0.3,
  tick: { fill: "currentColor", fontSize: 11 },
  tickLine: false,
} as const;

/** The unit written along the y axis (left, rotated), clear of the tick labels. */
export function yLabel(unit: string) {
  return { value: unit, angle: -90, position: "insideLeft" as const, offset: 0, style: { textAnchor: "middle" as const }, fill: "currentColor", fontSize: 11 };
}

export const chartMargin = { top: 6, right: 10, bottom: 0, left: 0 };
export const Y_WIDTH = 52;

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

export function clock(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour12: false });
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
  legend?: { label: string; color: string; value?: string; dashed?: boolean }[];
  note?: ReactNode;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <figure data-testid={testId} className="min-w-0 rounded-lg border border-zinc-200 bg-white p-3 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
      <figcaption className="mb-1 flex flex-wrap items-baseline justify-between gap-x-3">
        <span className="text-sm font-semibold">{title}</span>
        {unit && <span className="text-xs text-zinc-500">{unit}</span>}
      </figcaption>
      {legend && legend.length > 0 && (
        <ul className="mb-1 flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-zinc-600 dark:text-zinc-400">
          {legend.map((l) => (
            <li key={l.label} className="inline-flex items-center gap-1">
              <span className={`inline-block h-0.5 w-3 ${l.dashed ? "border-t-2 border-dashed bg-transparent" : ""}`} style={l.dashed ? { borderColor: l.color } : { backgroundColor: l.color, height: 8, width: 8, borderRadius: 2 }} />
              <span className="font-mono">{l.label}</span>
              {l.value !== undefined && <span className="tabular-nums text-zinc-900 dark:text-zinc-100">{l.value}</span>}
            </li>
          ))}
        </ul>
      )}
      <div className="text-zinc-500">{children}</div>
      {note && <p className="mt-1 text-xs text-zinc-500">{note}</p>}
    </figure>
  );
}

/** Tooltip body for recharts (themed with Tailwind so it reads in light and dark). */
export function TooltipBox({
  active,
  label,
  payload,
  unit,
  digits = 1,
}: {
  active?: boolean;
  label?: number | string;
  payload?: readonly { name?: string | number; value?: unknown; color?: string; dataKey?: unknown }[];
  unit: string;
  digits?: number;
}) {
  if (!active || !payload || payload.length === 0) return null;
  return (
    <div className="rounded-md border border-zinc-200 bg-white/95 px-2 py-1.5 text-xs shadow-md dark:border-zinc-700 dark:bg-zinc-900/95">
      {typeof label === "number" && <div className="mb-0.5 font-mono text-zinc-500">{clock(label)}</div>}
      {[...payload].reverse().map((p) => (
        <div key={String(p.dataKey ?? p.name)} className="flex items-center gap-1.5 text-zinc-800 dark:text-zinc-200">
          <span className="inline-block h-2 w-2 rounded-sm" style={{ backgroundColor: p.color }} />
          <span className="font-mono">{p.name}</span>
          <span className="ml-auto pl-3 tabular-nums">
            {typeof p.value === "number" ? fmt(p.value, digits) : "–"} {unit}
          </span>
        </div>
      ))}
    </div>
  );
}
