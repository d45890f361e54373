"use client";

import { useMemo } from "react";
import type { ServiceTick } from "@/lib/core/metrics";
import { healthSegments, PHASES, type Phase } from "@/components/charts/health-segments";
import { ChartFrame, clock, WINDOW_MS, type Series } from "@/components/charts/chart-frame";

/** A lane per replica over the last 5 minutes: green while in rotation, red while the balancer kept it out. */
export function HealthTimeline({ history, series }: { history: ServiceTick[]; series: Series[] }) {
  const lanes = useMemo(() => healthSegments(history), [history]);
  const last = history.length ? history[history.length - 1] : null;
  const end = (last?.t ?? 0) + 1000;
  const start = end - WINDOW_MS;
  const x = (t: number) => Math.max(0, Math.min(1000, ((t - start) / WINDOW_MS) * 1000));
  const shown = series.filter((s) => lanes.has(s.id));
  return (
    <ChartFrame title="Health timeline" unit="last 5 minutes" legend={(Object.keys(PHASES) as Phase[]).map((p) => ({ label: PHASES[p].label, color: PHASES[p].color }))} testId="chart-health">
      {shown.length === 0 ? (
        <p className="py-6 text-center text-xs">No data yet.</p>
      ) : (
        <div className="space-y-1 py-1">
          {shown.map((s) => (
            <div key={s.id} className="flex items-center gap-2" data-testid="health-lane" data-replica-id={s.id}>
              <span className="flex w-28 shrink-0 items-center gap-1.5 truncate font-mono text-xs text-zinc-700 dark:text-zinc-300">
                <span className="inline-block h-2 w-2 shrink-0 rounded-sm" style={{ backgroundColor: s.color }} />
                {s.label}
              </span>
              <svg viewBox="0 0 1000 10" preserveAspectRatio="none" className="h-3.5 w-full rounded-sm bg-zinc-100 dark:bg-zinc-800" role="img" aria-label={`health of ${s.label}`}>
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
            {["-5m", "-4m", "-3m", "-2m", "-1m", "now"].map((l) => (
              <span key={l}>{l}</span>
            ))}
          </div>
        </div>
      )}
    </ChartFrame>
  );
}
