"use client";

import { memo, useMemo } from "react";
import { ChartFrame, PLOT_BOX, fmt, niceTicks, rowReadout, timeAxis, type ChartWindow } from "@/components/charts/chart-frame";
import { SvgTimeChart } from "@/components/charts/svg-chart";
import { TimePlot } from "@/components/charts/time-plot";

/** Each class's fill: its colour plus a hatch of its own (ChartPatterns), so the bands differ without colour too. */
const CLASSES = [
  { key: "4xx", label: "4xx responses", color: "#d97706", fill: "url(#sy-errors-4xx)" },
  { key: "5xx", label: "5xx responses", color: "#e11d48", fill: "url(#sy-errors-5xx)" },
  { key: "conn", label: "connection errors", color: "#7c3aed", fill: "url(#sy-errors-conn)" },
] as const;

/**
 * Errors per second by class, stacked, for the whole service (as the balancer counts
 * them). Stacked areas draw no outline: a class at zero would otherwise draw its line
 * along the top of the one below and look like errors of its own.
 */
export const ErrorsChart = memo(function ErrorsChart({ win, height = 200 }: { win: ChartWindow; height?: number }) {
  const { history } = win;
  const rows = useMemo(() => history.map((t) => ({ t: t.t, "4xx": t.errors["4xx"], "5xx": t.errors["5xx"], conn: t.errors.conn })), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(win.end, win.rangeMs);
  const yTicks = niceTicks(history.reduce((m, t) => Math.max(m, t.errors["4xx"] + t.errors["5xx"] + t.errors.conn), 0));
  const legend = CLASSES.map((c) => ({ label: c.label, color: c.color, fill: c.fill, value: fmt(last?.errors[c.key] ?? 0) }));
  return (
    <ChartFrame title="Errors" unit="errors/s by class" legend={legend} testId="chart-errors">
      <TimePlot label={`Errors per second by class, stacked. Latest: ${legend.map((l) => `${l.label} ${l.value}`).join(", ")}.`} domain={axis.domain} snapMs={win.stepMs} markers={win.markers} box={PLOT_BOX} readout={rowReadout(rows, CLASSES, (v) => `${fmt(v)}/s`, win.stepMs * 2)}>
        <SvgTimeChart rows={rows} series={CLASSES} mode="stacked" step domain={axis.domain} xTicks={axis.ticks} xFormat={axis.format} yTicks={yTicks} yLabel="errors/s" height={height} />
      </TimePlot>
    </ChartFrame>
  );
});
