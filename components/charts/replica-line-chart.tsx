"use client";

import { useMemo, type ReactNode } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import { axisProps, chartMargin, ChartFrame, replicaRows, Y_WIDTH, yLabel, fmt, niceTicks, timeAxis, TooltipBox, type Series } from "@/components/charts/chart-frame";

/** One line per replica of `pick(replica)` each second (a gap where it gives null), in the replica's colour. */
export function ReplicaLineChart({
  title,
  unit,
  history,
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
  history: ServiceTick[];
  series: Series[];
  pick: (r: ReplicaTick) => number | null;
  note?: ReactNode;
  testId: string;
  /** the y axis reaches at least this */
  minTop?: number;
  height?: number;
}) {
  const rows = useMemo(() => replicaRows(history, pick), [history, pick]);
  const last = history.length ? history[history.length - 1] : null;
  const axis = timeAxis(last?.t ?? null);
  const peak = rows.reduce((m, row) => series.reduce((mm, s) => Math.max(mm, row[s.id] ?? 0), m), 0);
  const yTicks = niceTicks(Math.max(peak, minTop));
  const legend = series.map((s) => {
    const r = last?.replicas.find((x) => x.replicaId === s.id);
    return { label: s.label, color: s.color, value: `${fmt(r ? pick(r) : null)} ${unit}` };
  });
  return (
    <ChartFrame title={title} unit={unit} legend={legend} note={note} testId={testId}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 400, height }}>
        <LineChart data={rows} margin={chartMargin}>
          <CartesianGrid strokeOpacity={0.12} stroke="currentColor" vertical={false} />
          <XAxis dataKey="t" type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} allowDataOverflow {...axisProps} />
          <YAxis domain={[0, yTicks[yTicks.length - 1]]} ticks={yTicks} width={Y_WIDTH} {...axisProps} label={yLabel(unit)} />
          <Tooltip isAnimationActive={false} content={(p) => <TooltipBox active={p.active} label={p.label as number} payload={p.payload} unit={unit} />} />
          {series.map((s) => (
            <Line key={s.id} dataKey={s.id} name={s.label} type="monotone" stroke={s.color} strokeWidth={1.5} dot={false} isAnimationActive={false} connectNulls={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
