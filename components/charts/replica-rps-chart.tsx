"use client";

import { memo, useMemo } from "react";
import { stackedTop } from "@/lib/core/metric-history";
import { ChartFrame, PLOT_BOX, replicaRows, fmt, niceTicks, rowReadout, timeAxis, type ChartWindow, type Series } from "@/components/charts/chart-frame";
import { SvgTimeChart } from "@/components/charts/svg-chart";
import { TimePlot } from "@/components/charts/time-plot";
import type { ReplicaTick } from "@/lib/core/metrics";

const pickRps = (r: ReplicaTick) => r.rps;

/**
 * Requests/s per replica, stacked: the total height is the service's rate, each band one
 * replica's part of it. No outlines: an isolated replica (0 req/s) would draw its line
 * along the top of the band below, as if it still served. The y axis reaches the higher
 * of the service total and the stack (stackedTop), so the stack never runs off the top.
 * Each band carries its replica's hatch as well as its colour.
 */
export const ReplicaRpsChart = memo(function ReplicaRpsChart({ win, series, height = 200 }: { win: ChartWindow; series: Series[]; height?: number }) {
  const { history } = win;
  const rows = useMemo(() => replicaRows(history, pickRps), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(win.end, win.rangeMs);
  const yTicks = niceTicks(stackedTop(history));
  const plotSeries = useMemo(() => series.map((s) => ({ key: s.id, label: s.label, color: s.color, fill: s.fill })), [series]);
  const legend = series.map((s) => ({ label: s.label, color: s.color, fill: s.fill, value: fmt(last?.replicas.find((r) => r.replicaId === s.id)?.rps ?? null) }));
  return (
    <ChartFrame title="Requests per replica" unit={`req/s · total ${fmt(last?.rps ?? 0)}`} legend={legend} testId="chart-rps">
      <TimePlot label={`Requests per second per replica, stacked; total now ${fmt(last?.rps ?? 0)} req/s.`} domain={axis.domain} snapMs={win.stepMs} markers={win.markers} box={PLOT_BOX} readout={rowReadout(rows, plotSeries, (v) => `${fmt(v)} req/s`, win.stepMs * 2)}>
        <SvgTimeChart rows={rows} series={plotSeries} mode="stacked" domain={axis.domain} xTicks={axis.ticks} xFormat={axis.format} yTicks={yTicks} yLabel="req/s" height={height} />
      </TimePlot>
    </ChartFrame>
  );
});
