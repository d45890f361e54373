"use client";

import { useMemo } from "react";
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ServiceTick } from "@/lib/core/metrics";
import { axisProps, chartMargin, ChartFrame, replicaRows, Y_WIDTH, yLabel, fmt, niceTicks, timeAxis, TooltipBox, type Series } from "@/components/charts/chart-frame";

/**
 * Requests/s per replica, stacked: the total height is the service's rate, each band one
 * replica's part of it. No outlines: an isolated replica (0 req/s) would draw its line
 * along the top of the band below, as if it still served.
 */
export function ReplicaRpsChart({ history, series, height = 200 }: { history: ServiceTick[]; series: Series[]; height?: number }) {
  const rows = useMemo(() => replicaRows(history, (r) => r.rps), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(last?.t ?? null);
  const yTicks = niceTicks(history.reduce((m, t) => Math.max(m, t.rps), 0));
  const legend = series.map((s) => ({ label: s.label, color: s.color, value: fmt(last?.replicas.find((r) => r.replicaId === s.id)?.rps ?? null) }));
  return (
    <ChartFrame title="Requests per replica" unit={`req/s · total ${fmt(last?.rps ?? 0)}`} legend={legend} testId="chart-rps">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 400, height }}>
        <AreaChart data={rows} margin={chartMargin}>
          <CartesianGrid strokeOpacity={0.12} stroke="currentColor" vertical={false} />
          <XAxis dataKey="t" type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} allowDataOverflow {...axisProps} />
          <YAxis domain={[0, yTicks[yTicks.length - 1]]} ticks={yTicks} width={Y_WIDTH} {...axisProps} label={yLabel("req/s")} />
          <Tooltip isAnimationActive={false} content={(p) => <TooltipBox active={p.active} label={p.label as number} payload={p.payload} unit="req/s" />} />
          {series.map((s) => (
            <Area key={s.id} dataKey={s.id} name={s.label} stackId="rps" type="monotone" stroke="none" fill={s.color} fillOpacity={0.55} activeDot={false} isAnimationActive={false} connectNulls={false} dot={false} />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
