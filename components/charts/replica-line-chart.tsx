"use client";

import { memo, useMemo, type ReactNode } from "react";
import type { ReplicaTick } from "@/lib/core/metrics";
import { ChartFrame, PLOT_BOX, replicaRows, fmt, niceTicks, rowReadout, timeAxis, type ChartWindow, type Series } from "@/components/charts/chart-frame";
import { SvgTimeChart } from "@/components/charts/svg-chart";
import { TimePlot } from "@/components/charts/time-plot";

/** One line per replica of `pick(replica)` each point (a gap where it gives null), in the replica's colour and dash. */
export const ReplicaLineChart = memo(function ReplicaLineChart({
  title,
  unit,
  win,
  series,
  pick,
  note,
  testId,
  minTop = 1,
  height = 200,
}: {
  title: string;
  /** the unit of a value: "ms", "%" */
  unit: string;
  win: ChartWindow;
  series: Series[];
  pick: (r: ReplicaTick) => number | null;
  note?: ReactNode;
  testId: string;
  /** the y axis reaches at least this */
  minTop?: number;
  height?: number;
}) {
  const { history } = win;
  const rows = useMemo(() => replicaRows(history, pick), [history, pick]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(win.end, win.rangeMs);
  const peak = rows.reduce((m, row) => series.reduce((mm, s) => Math.max(mm, row[s.id] ?? 0), m), 0);
  const yTicks = niceTicks(Math.max(peak, minTop));
  const plotSeries = useMemo(() => series.map((s) => ({ key: s.id, label: s.label, color: s.color, dash: s.dash })), [series]);
  const legend = series.map((s) => {
    const r = last?.replicas.find((x) => x.replicaId === s.id);
    return { label: s.label, color: s.color, dash: s.dash ?? "", value: `${fmt(r ? pick(r) : null)} ${unit}` };
  });
  return (
    <ChartFrame title={title} unit={unit} legend={legend} note={note} testId={testId}>
      <TimePlot label={`${title}, ${unit}, one line per replica. Latest: ${legend.map((l) => `${l.label} ${l.value}`).join(", ")}.`} domain={axis.domain} snapMs={win.stepMs} markers={win.markers} box={PLOT_BOX} readout={rowReadout(rows, plotSeries, (v) => `${fmt(v)} ${unit}`, win.stepMs * 2)}>
        <SvgTimeChart rows={rows} series={plotSeries} mode="lines" domain={axis.domain} xTicks={axis.ticks} xFormat={axis.format} yTicks={yTicks} yLabel={unit} height={height} />
      </TimePlot>
    </ChartFrame>
  );
});
