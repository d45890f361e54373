"use client";

import { memo, useMemo } from "react";
import { ChartFrame, PLOT_BOX, replicaRows, fmt, rowReadout, timeAxis, type ChartWindow, type Series } from "@/components/charts/chart-frame";
import { SvgTimeChart } from "@/components/charts/svg-chart";
import { TimePlot } from "@/components/charts/time-plot";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";

/** A replica's share in %, none where the service had no traffic. */
const pickShare = (r: ReplicaTick, tick: ServiceTick) => (tick.rps > 0 ? Math.round(r.share * 1000) / 10 : null);

const SHARE_TICKS = [0, 25, 50, 75, 100];

/** Share of the service's requests per replica, stacked to 100% (empty where there was no traffic). */
export const TrafficShareChart = memo(function TrafficShareChart({ win, series, height = 200 }: { win: ChartWindow; series: Series[]; height?: number }) {
  const { history } = win;
  const rows = useMemo(() => replicaRows(history, pickShare), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(win.end, win.rangeMs);
  const plotSeries = useMemo(() => series.map((s) => ({ key: s.id, label: s.label, color: s.color, fill: s.fill })), [series]);
  const legend = series.map((s) => {
    const r = last?.replicas.find((x) => x.replicaId === s.id);
    return { label: s.label, color: s.color, fill: s.fill, value: r && last && last.rps > 0 ? `${fmt(r.share * 100, 0)}%` : "–" };
  });
  return (
    <ChartFrame title="Traffic share" unit="% of the service's requests" legend={legend} testId="chart-share">
      <TimePlot label={`Share of the service's requests per replica, stacked to 100%. Now: ${legend.map((l) => `${l.label} ${l.value}`).join(", ")}.`} domain={axis.domain} snapMs={win.stepMs} markers={win.markers} box={PLOT_BOX} readout={rowReadout(rows, plotSeries, (v) => `${fmt(v, 0)}%`, win.stepMs * 2)}>
        <SvgTimeChart rows={rows} series={plotSeries} mode="stacked" step domain={axis.domain} xTicks={axis.ticks} xFormat={axis.format} yTicks={SHARE_TICKS} yFormat={(v) => `${v}%`} yLabel="share" height={height} />
      </TimePlot>
    </ChartFrame>
  );
});
