"use client";

import { useMemo } from "react";
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ServiceTick } from "@/lib/core/metrics";
import { axisProps, chartMargin, ChartFrame, replicaRows, Y_WIDTH, yLabel, fmt, timeAxis, TooltipBox, type Series } from "@/components/charts/chart-frame";

/** Share of the service's requests per replica, stacked to 100% (empty where there was no traffic). */
export function TrafficShareChart({ history, series, height = 200 }: { history: ServiceTick[]; series: Series[]; height?: number }) {
  const rows = useMemo(() => replicaRows(history, (r, tick) => (tick.rps > 0 ? Math.round(r.share * 1000) / 10 : null)), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(last?.t ?? null);
  const legend = series.map((s) => {
    const r = last?.replicas.find((x) => x.replicaId === s.id);
    return { label: s.label, color: s.color, value: r && last && last.rps > 0 ? `${fmt(r.share * 100, 0)}%` : "–" };
  });
  return (
    <ChartFrame title="Traffic share" unit="% of the service's requests" legend={legend} testId="chart-share">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 400, height }}>
        <AreaChart data={rows} margin={chartMargin}>
          <CartesianGrid strokeOpacity={0.12} stroke="currentColor" vertical={false} />
          <XAxis dataKey="t" type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} allowDataOverflow {...axisProps} />
          <YAxis domain={[0, 100]} ticks={[0, 25, 50, 75, 100]} width={Y_WIDTH} tickFormatter={(v: number) => `${v}%`} {...axisProps} label={yLabel("share")} />
          <Tooltip isAnimationActive={false} content={(p) => <TooltipBox active={p.active} label={p.label as number} payload={p.payload} unit="%" />} />
          {series.map((s) => (
            <Area key={s.id} dataKey={s.id} name={s.label} stackId="share" type="stepAfter" stroke="none" fill={s.color} fillOpacity={0.6} activeDot={false} isAnimationActive={false} dot={false} />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
