"use client";

import { memo, useCallback, useMemo, useState, type ReactNode } from "react";
import { HOLD_OFF_SCREEN_FROM, useHeldOffScreen } from "@/components/ui/hold-off-screen";
import type { SwitchyardEvent } from "@/lib/events";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import { TIME_RANGE_KEYS, TIME_RANGES, type StoredRange, type TimeRange } from "@/lib/core/metric-history";
import { useLiveEvents } from "@/lib/client/live";
import { useStoredHistory } from "@/lib/client/metrics-history";
import { clock, WINDOW_MS, type ChartWindow, type Series } from "@/components/charts/chart-frame";
import { chartMarkers } from "@/components/charts/markers";
import { ChartPatterns, replicaFill } from "@/components/charts/patterns";
import type { ReplicaStyle } from "@/components/charts/replica-colors";
import { CrosshairProvider } from "@/components/charts/time-plot";
import { ReplicaRpsChart } from "@/components/charts/replica-rps-chart";
import { TrafficShareChart } from "@/components/charts/traffic-share-chart";
import { LatencyChart } from "@/components/charts/latency-chart";
import { ErrorsChart } from "@/components/charts/errors-chart";
import { MemoryChart } from "@/components/charts/memory-chart";
import { HealthTimeline } from "@/components/charts/health-timeline";
import { ReplicaLineChart } from "@/components/charts/replica-line-chart";
import { DesiredReadyChart } from "@/components/autoscale/desired-ready-chart";
import { chartLatencyKind, errorPercent, type AverageMeaning } from "@/components/services/replica-figures";

const STEP_TEXT: Record<TimeRange, string> = {
  "5m": "one point a second, live",
  "15m": "one point a minute, stored",
  "1h": "one point a minute, stored",
  "24h": "one point per 5 minutes, stored",
};

const NO_TICKS: ServiceTick[] = [];

/** Replica ids of `history` not in `known`, in order of first appearance. */
function extraIds(known: readonly string[], history: readonly ServiceTick[]): string[] {
  const seen = new Set(known);
  const out: string[] = [];
  for (const t of history)
    for (const r of t.replicas)
      if (!seen.has(r.replicaId)) {
        seen.add(r.replicaId);
        out.push(r.replicaId);
      }
  return out;
}

export { HOLD_OFF_SCREEN_FROM };

/** One chart's place in the grid: gives the chart `win`, or while it is off screen (and `hold`), the window it last drew. */
function OnScreen({ win, hold, children }: { win: ChartWindow; hold: boolean; children: (win: ChartWindow) => ReactNode }) {
  const { ref, shown, live } = useHeldOffScreen(win, hold);
  return (
    <div ref={ref} className="min-w-0" data-chart-held={live ? undefined : true}>
      {children(shown)}
    </div>
  );
}

/**
 * The service page's charts (issue 12, item 10): a time range (the live 5 minutes, or
 * 15 min / 1 h / 24 h from the stored minute points), Pause (the charts hold still while
 * the data keeps arriving underneath; the cards above stay live), a crosshair shared by
 * every chart, and markers for scaling, rule applies and faults from the service's
 * events. Each chart is memoised and gets one `win` object per tick, so a push that is
 * not a tick (traffic figures, a service view) redraws none of them; with many replicas
 * (HOLD_OFF_SCREEN_FROM) a chart off screen draws no tick until it is scrolled to.
 */
export const ServiceCharts = memo(function ServiceCharts({
  serviceId,
  history,
  ids,
  styleOf,
  events,
  limitMb,
  thresholdPercent,
  averageMeans,
}: {
  serviceId: string;
  /** the live 1-second ticks, oldest first */
  history: ServiceTick[];
  /** replicas the page knows (current, then past), in colour order */
  ids: readonly string[];
  styleOf: (id: string) => ReplicaStyle;
  /** the service's events as the page loaded them (markers); new ones arrive live */
  events: SwitchyardEvent[];
  limitMb: number;
  thresholdPercent: number;
  averageMeans: AverageMeaning;
}) {
  const [range, setRange] = useState<TimeRange>("5m");
  const [frozen, setFrozen] = useState<{ at: number; history: ServiceTick[] } | null>(null);
  const paused = frozen !== null;
  const stored = useStoredHistory(serviceId, range === "5m" ? null : (range as StoredRange), paused);
  const liveEvents = useLiveEvents(events, (e) => e.serviceId === serviceId || e.serviceId === null);

  const isLive = range === "5m";
  const storedHistory = stored.data?.history;
  const chartHistory = useMemo(() => (isLive ? (frozen ? frozen.history : history) : (storedHistory ?? NO_TICKS)), [isLive, frozen, history, storedHistory]);
  const { ms: rangeMs, bucketMs: stepMs } = TIME_RANGES[range];
  const lastT = chartHistory.length ? chartHistory[chartHistory.length - 1].t : null;
  const end = isLive ? (lastT ?? 0) : (stored.data?.to ?? 0);
  const markers = useMemo(() => chartMarkers(liveEvents, serviceId, end - rangeMs, end + stepMs), [liveEvents, serviceId, end, rangeMs, stepMs]);
  const win: ChartWindow = useMemo(() => ({ history: chartHistory, end, rangeMs: isLive ? WINDOW_MS : rangeMs, stepMs, markers }), [chartHistory, end, isLive, rangeMs, stepMs, markers]);

  const extra = useMemo(() => (isLive ? [] : extraIds(ids, chartHistory)), [isLive, ids, chartHistory]);
  const idsKey = ids.join(",") + "|" + extra.join(",");
  const series: Series[] = useMemo(
    () =>
      [...ids, ...extra].map((id) => {
        const st = styleOf(id);
        return { id, label: id, color: st.color, dash: st.dash, fill: replicaFill(st.slot) };
      }),
    // idsKey stands for ids and extra; styleOf changes with them
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [idsKey, styleOf],
  );
  const hold = series.length >= HOLD_OFF_SCREEN_FROM;
  const slots = useMemo(() => [...new Set(series.map((s) => styleOf(s.id).slot))].sort((a, b) => a - b), [series, styleOf]);

  const latencyKind = chartLatencyKind(chartHistory);
  const pickLatency = useCallback((r: ReplicaTick) => (latencyKind === "p95" ? r.latency.p95 : r.latency.avg), [latencyKind]);
  const latencyNote = !isLive
    ? "Each point: the worst minute's p95 per replica in it, from the stored minute points."
    : latencyKind === "p95"
      ? "Each second's p95 per replica, interpolated inside the engine's latency buckets (…, 100, 250, 500, 1000 ms, …): within a bucket the line is a guess."
      : `Not percentiles: ${averageMeans.explain}`;
  const errorsNote = isLive
    ? "Each second: 4xx, 5xx and connection errors as a share of the replica's requests (a gap: no requests)."
    : "Each point: 5xx responses and connection errors as a share of the replica's requests (stored minute points keep them together, without 4xx).";

  const newSince = frozen ? history.filter((t) => t.t > frozen.at).length : 0;
  const togglePause = () => setFrozen((f) => (f ? null : { at: lastT ?? Date.now(), history }));

  return (
    <section aria-label="charts" className="space-y-2" data-testid="charts" data-range={range} data-paused={paused} data-chart-last-t={lastT ?? ""} data-chart-points={chartHistory.length}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-sm font-semibold">
          {range === "5m" ? "Last 5 minutes" : `Last ${TIME_RANGES[range].label}`} <span className="font-normal text-zinc-600 dark:text-zinc-400">· {STEP_TEXT[range]}</span>
        </h2>
        <div className="flex flex-wrap items-center gap-2">
          <div role="group" aria-label="time range" className="flex gap-0.5 rounded-lg bg-zinc-100 p-0.5 text-xs dark:bg-zinc-800">
            {TIME_RANGE_KEYS.map((k) => (
              <button
                key={k}
                type="button"
                aria-pressed={range === k}
                data-testid={`range-${k}`}
                onClick={() => setRange(k)}
                className={`rounded-md px-2.5 py-1 ${range === k ? "bg-white font-semibold text-zinc-900 shadow-sm dark:bg-zinc-950 dark:text-white" : "text-zinc-700 hover:text-zinc-900 dark:text-zinc-300 dark:hover:text-white"}`}
              >
                {TIME_RANGES[k].label}
              </button>
            ))}
          </div>
          <button
            type="button"
            aria-pressed={paused}
            data-testid="charts-pause"
            onClick={togglePause}
            className="rounded-md px-2.5 py-1 text-xs font-medium text-zinc-800 ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 dark:text-zinc-200 dark:ring-zinc-700 dark:hover:bg-zinc-800"
          >
            {paused ? "▶ Resume" : "❚❚ Pause"}
          </button>
        </div>
      </div>
      {frozen && (
        <p className="text-xs text-zinc-700 dark:text-zinc-300" role="status" data-testid="charts-paused-note">
          Paused at {clock(frozen.at)}: the charts hold still{isLive ? `; ${newSince} new point${newSince === 1 ? "" : "s"} arrived since` : ""}. The cards above stay live. Resume to catch up.
        </p>
      )}
      {!isLive && (
        <p className="text-xs text-zinc-700 dark:text-zinc-300" data-testid="charts-stored-note">
          {stored.error
            ? `Could not read the stored points: ${stored.error}`
            : stored.loading && !stored.data
              ? "Reading the stored minute points…"
              : chartHistory.length === 0
                ? "No stored minute points in this range yet: the panel stores one per replica at the end of each minute."
                : "From the minute points the panel stores (kept 7 days): requests, errors, p95, memory and health per replica. The minute in progress is not stored yet."}
        </p>
      )}
      <ChartPatterns slots={slots} />
      <p className="flex flex-wrap gap-x-3 text-[11px] text-zinc-700 dark:text-zinc-300" aria-label="marker legend">
        <span>Markers:</span>
        <span>
          <b className="rounded-sm border border-sky-700 px-0.5 text-sky-800 dark:border-sky-300 dark:text-sky-200">S</b> scaled
        </span>
        <span>
          <b className="rounded-sm border border-emerald-700 px-0.5 text-emerald-800 dark:border-emerald-300 dark:text-emerald-200">AS</b> autoscaled (its reason on hover)
        </span>
        <span>
          <b className="rounded-sm border border-violet-700 px-0.5 text-violet-800 dark:border-violet-300 dark:text-violet-200">A</b> rules applied
        </span>
        <span>
          <b className="rounded-sm border border-rose-700 px-0.5 text-rose-800 dark:border-rose-300 dark:text-rose-200">F</b> fault (injected, stressed, died)
        </span>
      </p>
      <CrosshairProvider>
        <div className="grid gap-3 lg:grid-cols-2">
          <OnScreen win={win} hold={hold}>
            {(w) => <ReplicaRpsChart win={w} series={series} />}
          </OnScreen>
          <OnScreen win={win} hold={hold}>
            {(w) => <TrafficShareChart win={w} series={series} />}
          </OnScreen>
          <OnScreen win={win} hold={hold}>
            {(w) => <HealthTimeline win={w} series={series} />}
          </OnScreen>
          {isLive && (
            <OnScreen win={win} hold={hold}>
              {(w) => <DesiredReadyChart win={w} />}
            </OnScreen>
          )}
          <OnScreen win={win} hold={hold}>
            {(w) => <MemoryChart win={w} series={series} limitMb={limitMb} thresholdPercent={thresholdPercent} />}
          </OnScreen>
          {isLive && (
            <OnScreen win={win} hold={hold}>
              {(w) => <LatencyChart win={w} />}
            </OnScreen>
          )}
          {isLive && (
            <OnScreen win={win} hold={hold}>
              {(w) => <ErrorsChart win={w} />}
            </OnScreen>
          )}
          <OnScreen win={win} hold={hold}>
            {(w) => <ReplicaLineChart title="Latency per replica" unit="ms" win={w} series={series} pick={pickLatency} note={latencyNote} testId="chart-replica-latency" />}
          </OnScreen>
          <OnScreen win={win} hold={hold}>
            {(w) => <ReplicaLineChart title="Error rate per replica" unit="%" win={w} series={series} pick={errorPercent} minTop={5} note={errorsNote} testId="chart-replica-errors" />}
          </OnScreen>
        </div>
      </CrosshairProvider>
      {!isLive && <p className="text-xs text-zinc-700 dark:text-zinc-300">The service&apos;s latency percentiles and its errors by class are live only (the last 5 minutes): the stored points keep them per replica.</p>}
    </section>
  );
});
