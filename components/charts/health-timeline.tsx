"use client";

import { memo, useMemo } from "react";
import { healthSegments, PHASES, type Phase } from "@/components/charts/health-segments";
import { ChartFrame, clock, timeAxis, type ChartWindow, type Series } from "@/components/charts/chart-frame";
import { TimePlot } from "@/components/charts/time-plot";

/** Where the lanes' bars sit inside the plot: after the 7 rem label and its 0.5 rem gap, above the axis labels. */
const LANE_BOX = { left: 120, right: 0, top: 4, bottom: 22 };

/** A lane per replica over the chart's window: green while in rotation, red while the balancer kept it out. */
export const HealthTimeline = memo(function HealthTimeline({ win, series }: { win: ChartWindow; series: Series[] }) {
  const { history } = win;
  const lanes = useMemo(() => healthSegments(history, win.stepMs), [history, win.stepMs]);
  const axis = timeAxis(win.end, win.rangeMs);
  const [start, end] = axis.domain;
  const span = end - start;
  const x = (t: number) => Math.max(0, Math.min(1000, ((t - start) / span) * 1000));
  const shown = series.filter((s) => lanes.has(s.id));
  return (
    <ChartFrame title="Health timeline" unit="in rotation or not, per replica" legend={(Object.keys(PHASES) as Phase[]).map((p) => ({ label: PHASES[p].label, color: PHASES[p].color }))} testId="chart-health">
      {shown.length === 0 ? (
        <p className="py-6 text-center text-xs">No data yet.</p>
      ) : (
        <TimePlot label={`Health timeline: one lane per replica (${shown.length}), green while in rotation, red while out, amber while drained.`} domain={axis.domain} snapMs={win.stepMs} markers={win.markers} box={LANE_BOX}>
          {/* off screen (50 lanes, far below the cards) the browser skips its style, layout and paint */}
          <div className="space-y-1 py-1 [contain-intrinsic-size:auto_200px] [content-visibility:auto]">
            {shown.map((s) => (
              <div key={s.id} className="flex items-center gap-2" data-testid="health-lane" data-replica-id={s.id}>
                <span className="flex w-28 shrink-0 items-center gap-1.5 truncate font-mono text-xs text-zinc-700 dark:text-zinc-300">
                  <span className="inline-block h-2 w-2 shrink-0 rounded-sm" style={{ backgroundColor: s.color }} />
                  {s.label}
                </span>
                <svg viewBox="0 0 1000 10" preserveAspectRatio="none" className="h-3.5 w-full rounded-sm bg-zinc-100 dark:bg-zinc-800">
                  {(lanes.get(s.id) ?? [])
                    .filter((g) => g.to > start)
                    .map((g) => (
                      <rect key={g.from} x={x(g.from)} width={Math.max(0.5, x(g.to) - x(g.from))} y={0} height={10} fill={PHASES[g.phase].color}>
                        <title>{`${s.label}: ${PHASES[g.phase].label}${g.reason && g.phase !== "in" ? ` (${g.reason})` : ""}, ${clock(g.from)}–${clock(g.to)}`}</title>
                      </rect>
                    ))}
                </svg>
              </div>
            ))}
            <div className="flex justify-between pl-30 text-[11px]">
              {axis.ticks.map((t) => (
                <span key={t}>{axis.format(t)}</span>
              ))}
            </div>
          </div>
        </TimePlot>
      )}
    </ChartFrame>
  );
});
