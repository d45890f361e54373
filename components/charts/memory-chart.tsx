"use client";

import { useMemo } from "react";
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ServiceTick } from "@/lib/core/metrics";
import { axisProps, chartMargin, ChartFrame, replicaRows, Y_WIDTH, yLabel, fmt, niceTicks, timeAxis, TooltipBox, type Series } from "@/components/charts/chart-frame";

/** Memory per replica against the limit, with the health threshold where /health turns 503. */
export function MemoryChart({ history, series, limitMb, thresholdPercent, height = 200 }: { history: ServiceTick[]; series: Series[]; limitMb: number; thresholdPercent: number; height?: number }) {
  const rows = useMemo(() => replicaRows(history, (r) => r.memoryMb), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(last?.t ?? null);
  const threshold = Math.round((limitMb * thresholdPercent) / 100);
  // the limit is the top unless a replica went past it (the process runtime does not enforce it)
  const peak = history.reduce((m, t) => t.replicas.reduce((mm, r) => Math.max(mm, r.memoryMb ?? 0), m), 0);
  const ticks = niceTicks(Math.max(limitMb, peak), true);
  const legend = [
    ...series.map((s) => ({ label: s.label, color: s.color, value: `${fmt(last?.replicas.find((r) => r.replicaId === s.id)?.memoryMb ?? null, 0)} MB` })),
    { label: `health threshold ${thresholdPercent}%`, color: "#e11d48", dashed: true, value: `${threshold} MB` },
    { label: "limit", color: "#a1a1aa", dashed: true, value: `${limitMb} MB` },
  ];
  return (
    <ChartFrame title="Memory per replica" unit={`MB · limit ${limitMb} MB`} legend={legend} testId="chart-memory">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 400, height }}>
        <LineChart data={rows} margin={chartMargin}>
          <CartesianGrid strokeOpacity={0.12} stroke="currentColor" vertical={false} />
          <XAxis dataKey="t" type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} allowDataOverflow {...axisProps} />
          <YAxis domain={[0, ticks[ticks.length - 1]]} ticks={ticks} width={Y_WIDTH} {...axisProps} label={yLabel("MB")} />
          <Tooltip isAnimationActive={false} content={(p) => <TooltipBox active={p.active} label={p.label as number} payload={p.payload} unit="MB" digits={0} />} />
          <ReferenceLine y={threshold} stroke="#e11d48" strokeDasharray="5 4" ifOverflow="extendDomain" label={{ value: `health threshold ${thresholdPercent}%`, position: "insideBottomLeft", fill: "#e11d48", fontSize: 10 }} />
          <ReferenceLine y={limitMb} stroke="#a1a1aa" strokeDasharray="2 3" strokeWidth={1.5} ifOverflow="extendDomain" />
          {series.map((s) => (
            <Line key={s.id} dataKey={s.id} name={s.label} type="monotone" stroke={s.color} strokeWidth={1.5} dot={false} isAnimationActive={false} connectNulls={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
