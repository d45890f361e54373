"use client";

import { useMemo } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ServiceTick } from "@/lib/core/metrics";
import { axisProps, chartMargin, ChartFrame, Y_WIDTH, yLabel, fmt, niceTicks, timeAxis, TooltipBox } from "@/components/charts/chart-frame";

const LINES = [
  { key: "p50", label: "p50", color: "#0ea5e9" },
  { key: "p95", label: "p95", color: "#f59e0b" },
  { key: "p99", label: "p99", color: "#e11d48" },
] as const;

/**
 * Service latency percentiles. Engines that report only an average (HAProxy's
 * rtime) fill p50 with it and leave p95/p99 empty; the chart says so.
 */
export function LatencyChart({ history, height = 200 }: { history: ServiceTick[]; height?: number }) {
  const rows = useMemo(() => history.map((t) => ({ t: t.t, p50: t.latency.p50, p95: t.latency.p95, p99: t.latency.p99 })), [history]);
  const hasPercentiles = history.some((t) => t.latency.p95 !== null);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(last?.t ?? null);
  const yTicks = niceTicks(history.reduce((m, t) => Math.max(m, t.latency.p99 ?? 0, t.latency.p95 ?? 0, t.latency.p50 ?? 0), 0));
  const lines = hasPercentiles ? LINES : [{ ...LINES[0], label: "average" }];
  return (
    <ChartFrame
      title="Latency"
      unit="ms"
      legend={lines.map((l) => ({ label: l.label, color: l.color, value: fmt(last?.latency[l.key] ?? null) }))}
      note={hasPercentiles ? undefined : "This engine reports an average response time, not a distribution: p95/p99 are not available."}
      testId="chart-latency"
    >
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 400, height }}>
        <LineChart data={rows} margin={chartMargin}>
          <CartesianGrid strokeOpacity={0.12} stroke="currentColor" vertical={false} />
          <XAxis dataKey="t" type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} allowDataOverflow {...axisProps} />
          <YAxis domain={[0, yTicks[yTicks.length - 1]]} ticks={yTicks} width={Y_WIDTH} {...axisProps} label={yLabel("ms")} />
          <Tooltip isAnimationActive={false} content={(p) => <TooltipBox active={p.active} label={p.label as number} payload={p.payload} unit="ms" />} />
          {lines.map((l) => (
            <Line key={l.key} dataKey={l.key} name={l.label} type="monotone" stroke={l.color} strokeWidth={1.5} dot={false} isAnimationActive={false} connectNulls={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
