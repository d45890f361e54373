"use client";

import { memo, useMemo } from "react";
import { ChartFrame, PLOT_BOX, replicaRows, fmt, niceTicks, rowReadout, timeAxis, type ChartWindow, type Series } from "@/components/charts/chart-frame";
import { SvgTimeChart } from "@/components/charts/svg-chart";
import { TimePlot } from "@/components/charts/time-plot";
import type { ReplicaTick } from "@/lib/core/metrics";

const pickMemory = (r: ReplicaTick) => r.memoryMb;

/** Memory per replica against the limit, with the health threshold where /health turns 503. */
export const MemoryChart = memo(function MemoryChart({ win, series, limitMb, thresholdPercent, height = 200 }: { win: ChartWindow; series: Series[]; limitMb: number; thresholdPercent: number; height?: number }) {
  const { history } = win;
  const rows = useMemo(() => replicaRows(history, pickMemory), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(win.end, win.rangeMs);
  const threshold = Math.round((limitMb * thresholdPercent) / 100);
  // the limit is the top unless a replica went past it (the process runtime does not enforce it)
  const peak = history.reduce((m, t) => t.replicas.reduce((mm, r) => Math.max(mm, r.memoryMb ?? 0), m), 0);
  const ticks = niceTicks(Math.max(limitMb, peak), true);
  const plotSeries = useMemo(() => series.map((s) => ({ key: s.id, label: s.label, color: s.color, dash: s.dash })), [series]);
  const legend = [
    ...series.map((s) => ({ label: s.label, color: s.color, dash: s.dash ?? "", value: `${fmt(last?.replicas.find((r) => r.replicaId === s.id)?.memoryMb ?? null, 0)} MB` })),
    { label: `health threshold ${thresholdPercent}%`, color: "#e11d48", dashed: true, value: `${threshold} MB` },
    { label: "limit", color: "#a1a1aa", dashed: true, value: `${limitMb} MB` },
  ];
  // the threshold's label in currentColor: rose-600 text on the dark card was 3.8:1
  const refLines = [
    { y: threshold, color: "#e11d48", dash: "5 4", label: `health threshold ${thresholdPercent}%` },
    { y: limitMb, color: "#a1a1aa", dash: "2 3" },
  ];
  return (
    <ChartFrame title="Memory per replica" unit={`MB · limit ${limitMb} MB`} legend={legend} testId="chart-memory">
      <TimePlot label={`Memory per replica in MB against the limit of ${limitMb} MB; health threshold ${threshold} MB.`} domain={axis.domain} snapMs={win.stepMs} markers={win.markers} box={PLOT_BOX} readout={rowReadout(rows, plotSeries, (v) => `${fmt(v, 0)} MB`, win.stepMs * 2)}>
        <SvgTimeChart rows={rows} series={plotSeries} mode="lines" domain={axis.domain} xTicks={axis.ticks} xFormat={axis.format} yTicks={ticks} yLabel="MB" refLines={refLines} height={height} />
      </TimePlot>
    </ChartFrame>
  );
});
