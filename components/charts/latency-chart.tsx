"use client";

import { memo, useMemo } from "react";
import { ChartFrame, PLOT_BOX, fmt, niceTicks, rowReadout, timeAxis, type ChartWindow } from "@/components/charts/chart-frame";
import { SvgTimeChart } from "@/components/charts/svg-chart";
import { TimePlot } from "@/components/charts/time-plot";

const LINES = [
  { key: "p50", label: "p50", color: "#0072b2", dash: "" },
  { key: "p95", label: "p95", color: "#d97706", dash: "7 3" },
  { key: "p99", label: "p99", color: "#c026d3", dash: "2 2" },
] as const;

/**
 * Service latency percentiles. Engines that report only an average (HAProxy's
 * rtime) fill p50 with it and leave p95/p99 empty; the chart says so.
 */
export const LatencyChart = memo(function LatencyChart({ win, height = 200 }: { win: ChartWindow; height?: number }) {
  const { history } = win;
  const rows = useMemo(() => history.map((t) => ({ t: t.t, p50: t.latency.p50, p95: t.latency.p95, p99: t.latency.p99 })), [history]);
  const hasPercentiles = history.some((t) => t.latency.p95 !== null);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(win.end, win.rangeMs);
  const yTicks = niceTicks(history.reduce((m, t) => Math.max(m, t.latency.p99 ?? 0, t.latency.p95 ?? 0, t.latency.p50 ?? 0), 0));
  const lines = hasPercentiles ? LINES : [{ ...LINES[0], label: "average" }];
  const legend = lines.map((l) => ({ label: l.label, color: l.color, dash: l.dash, value: fmt(last?.latency[l.key] ?? null) }));
  const plotSeries = lines.map((l) => ({ key: l.key, label: l.label, color: l.color, dash: l.dash }));
  return (
    <ChartFrame
      title="Latency"
      unit="ms"
      legend={legend}
      note={hasPercentiles ? undefined : "This engine reports an average response time, not a distribution: p95/p99 are not available."}
      testId="chart-latency"
    >
      <TimePlot label={`Service latency in ms. Latest: ${legend.map((l) => `${l.label} ${l.value}`).join(", ")}.`} domain={axis.domain} snapMs={win.stepMs} markers={win.markers} box={PLOT_BOX} readout={rowReadout(rows, plotSeries, (v) => `${fmt(v)} ms`, win.stepMs * 2)}>
        <SvgTimeChart rows={rows} series={plotSeries} mode="lines" domain={axis.domain} xTicks={axis.ticks} xFormat={axis.format} yTicks={yTicks} yLabel="ms" height={height} />
      </TimePlot>
    </ChartFrame>
  );
});
