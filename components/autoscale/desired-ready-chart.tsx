"use client";

import { memo, useMemo } from "react";
import type { ServiceTick } from "@/lib/core/metrics";
import { ChartFrame, PLOT_BOX, niceTicks, rowReadout, timeAxis, type ChartWindow, type ReplicaRow } from "@/components/charts/chart-frame";
import { SvgTimeChart } from "@/components/charts/svg-chart";
import { TimePlot } from "@/components/charts/time-plot";

/** Each tick's desired count (the slider's or the autoscaler's) and the replicas in rotation then. Pure. */
export function desiredReadyRows(history: readonly ServiceTick[]): ReplicaRow[] {
  return history.map((t) => ({ t: t.t, desired: t.desired ?? null, ready: t.replicas.filter((r) => r.inRotation).length }));
}

/** ready first, so the dashed desired line is drawn over it where the two agree */
const SERIES = [
  { key: "ready", label: "ready (in rotation)", color: "#059669" },
  { key: "desired", label: "desired", color: "#4f46e5", dash: "6 3" },
];

/**
 * Desired vs ready replicas over the live window (issue 16): the gap between the lines is
 * the time replicas take to start and join, or to drain and go; the autoscaler's
 * decisions are its markers (AS), with their reasons on hover.
 */
export const DesiredReadyChart = memo(function DesiredReadyChart({ win, height = 160 }: { win: ChartWindow; height?: number }) {
  const rows = useMemo(() => desiredReadyRows(win.history), [win.history]);
  const last = rows.length ? rows[rows.length - 1] : null;
  const axis = timeAxis(win.end, win.rangeMs);
  const top = Math.max(2, ...rows.map((r) => Math.max(r.desired ?? 0, r.ready ?? 0)));
  const yTicks = niceTicks(top + 1);
  const legend = [...SERIES].reverse().map((s) => ({ label: s.label, color: s.color, dash: s.dash ?? "", value: last?.[s.key] === null || last?.[s.key] === undefined ? "–" : String(last[s.key]) }));
  return (
    <ChartFrame title="Replicas: desired and ready" unit="replicas" legend={legend} testId="chart-desired-ready">
      <TimePlot
        label={`Desired and ready replicas; now desired ${last?.desired ?? "unknown"}, ready ${last?.ready ?? 0}.`}
        domain={axis.domain}
        snapMs={win.stepMs}
        markers={win.markers}
        box={PLOT_BOX}
        readout={rowReadout(rows, SERIES, (v) => String(v), win.stepMs * 2)}
      >
        <SvgTimeChart rows={rows} series={SERIES} mode="lines" step domain={axis.domain} xTicks={axis.ticks} xFormat={axis.format} yTicks={yTicks} yLabel="replicas" height={height} />
      </TimePlot>
    </ChartFrame>
  );
});
