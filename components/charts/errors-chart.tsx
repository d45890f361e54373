"use client";

import { useMemo } from "react";
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ServiceTick } from "@/lib/core/metrics";
import { axisProps, chartMargin, ChartFrame, Y_WIDTH, yLabel, fmt, niceTicks, timeAxis, TooltipBox } from "@/components/charts/chart-frame";

const CLASSES = [
  { key: "4xx", label: "4xx responses", color: "#f59e0b" },
  { key: "5xx", label: "5xx responses", color: "#e11d48" },
  { key: "conn", label: "connection errors", color: "#7c3aed" },
] as const;

/**
 * Errors per second by class, stacked, for the whole service (as the balancer counts
 * them). Stacked areas draw no outline: a class at zero would otherwise draw its line
 * along the top of the one below and look like errors of its own.
 */
export function ErrorsChart({ history, height = 200 }: { history: ServiceTick[]; height?: number }) {
  const rows = useMemo(() => history.map((t) => ({ t: t.t, "4xx": t.errors["4xx"], "5xx": t.errors["5xx"], conn: t.errors.conn })), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(last?.t ?? null);
  const yTicks = niceTicks(history.reduce((m, t) => Math.max(m, t.errors["4xx"] + t.errors["5xx"] + t.errors.conn), 0));
  return (
    <ChartFrame title="Errors" unit="errors/s by class" legend={CLASSES.map((c) => ({ label: c.label, color: c.color, value: fmt(last?.errors[c.key] ?? 0) }))} testId="chart-errors">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 400, height }}>
        <AreaChart data={rows} margin={chartMargin}>
          <CartesianGrid strokeOpacity={0.12} stroke="currentColor" vertical={false} />
          <XAxis dataKey="t" type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} allowDataOverflow {...axisProps} />
          <YAxis domain={[0, yTicks[yTicks.length - 1]]} ticks={yTicks} width={Y_WIDTH} {...axisProps} label={yLabel("errors/s")} />
          <Tooltip isAnimationActive={false} content={(p) => <TooltipBox active={p.active} label={p.label as number} payload={p.payload} unit="/s" />} />
          {CLASSES.map((c) => (
            <Area key={c.key} dataKey={c.key} name={c.label} stackId="err" type="stepAfter" stroke="none" fill={c.color} fillOpacity={0.6} dot={false} activeDot={false} isAnimationActive={false} />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
