"use client";

import { useEffect, useId, useRef, useState } from "react";
import { PLOT_BOX, type ReplicaRow } from "@/components/charts/chart-frame";
/**
 * A time chart drawn as plain SVG: lines (each with its dash) or stacked bands (each
 * with its fill), a grid, the axes, horizontal reference lines. It replaces recharts on
 * the live page (issue 12, item 14): recharts rebuilt its whole state for every chart
 * every second (about 40 ms per chart with 6 replicas, seconds with 50); this builds one
 * path string per series, a few microseconds per point, and React patches one `d`
 * attribute per series. The pure geometry is in svg-paths.ts.
 */
export type PlotSeries = { key: string; label: string; color: string; dash?: string; fill?: string };

import { areaPaths, linePath, scaleX, scaleY } from "@/components/charts/svg-paths";

function useWidth(initial: number): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(120, Math.round(el.getBoundingClientRect().width)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

export function SvgTimeChart({
  rows,
  series,
  mode,
  step = false,
  domain,
  xTicks,
  xFormat,
  yTicks,
  yFormat = (v: number) => String(v),
  yLabel,
  refLines = [],
  height = 200,
  testId,
}: {
  rows: readonly ReplicaRow[];
  series: readonly PlotSeries[];
  mode: "lines" | "stacked";
  /** hold each value until the next point (counts per interval) instead of joining points */
  step?: boolean;
  domain: readonly [number, number];
  xTicks: readonly number[];
  xFormat: (t: number) => string;
  yTicks: readonly number[];
  yFormat?: (v: number) => string;
  yLabel: string;
  refLines?: readonly { y: number; color: string; dash: string; label?: string }[];
  height?: number;
  testId?: string;
}) {
  const [ref, width] = useWidth(400);
  const clip = useId().replace(/:/g, "");
  const box = PLOT_BOX;
  const plot = { left: box.left, top: box.top, width: Math.max(1, width - box.left - box.right), height: Math.max(1, height - box.top - box.bottom) };
  const yMax = yTicks[yTicks.length - 1] || 1;
  const x = scaleX(domain, plot.left, plot.width);
  const y = scaleY(yMax, plot.top, plot.height);
  const keys = series.map((s) => s.key);
  const areas = mode === "stacked" ? areaPaths(rows, keys, x, y, step) : null;
  return (
    // overflow hidden: before the first measure (the server's render, 400 px) the drawing may be wider than a phone.
    // content-visibility auto: while the chart is off screen the browser skips its style, layout and paint (the
    // DOM still gets every tick's paths); its height is fixed, so nothing moves when it comes into view
    <div ref={ref} data-testid={testId} style={{ height }} className="overflow-hidden [content-visibility:auto]">
      <svg width={width} height={height} className="block">
        <defs>
          <clipPath id={`clip-${clip}`}>
            <rect x={plot.left} y={plot.top - 2} width={plot.width} height={plot.height + 4} />
          </clipPath>
        </defs>
        {yTicks.map((v) => (
          <g key={v}>
            <line x1={plot.left} x2={plot.left + plot.width} y1={y(v)} y2={y(v)} stroke="currentColor" strokeOpacity={0.12} />
            <text x={plot.left - 6} y={y(v)} dy="0.32em" textAnchor="end" fontSize={11} fill="currentColor">
              {yFormat(v)}
            </text>
          </g>
        ))}
        <text transform={`translate(11 ${plot.top + plot.height / 2}) rotate(-90)`} textAnchor="middle" fontSize={11} fill="currentColor">
          {yLabel}
        </text>
        <line x1={plot.left} x2={plot.left + plot.width} y1={plot.top + plot.height} y2={plot.top + plot.height} stroke="currentColor" strokeOpacity={0.3} />
        {xTicks.map((t) => (
          <text key={t} x={x(t)} y={plot.top + plot.height + 16} textAnchor="middle" fontSize={11} fill="currentColor">
            {xFormat(t)}
          </text>
        ))}
        <g clipPath={`url(#clip-${clip})`}>
          {areas
            ? series.map((s, i) => <path key={s.key} data-series={s.key} className="sy-area" d={areas[i]} fill={s.fill ?? s.color} fillOpacity={s.fill ? 1 : 0.6} stroke="none" />)
            : series.map((s) => <path key={s.key} data-series={s.key} className="sy-line" d={linePath(rows, s.key, x, y, step)} fill="none" stroke={s.color} strokeWidth={1.75} strokeDasharray={s.dash || undefined} strokeLinejoin="round" />)}
          {refLines.map((r) => (
            <g key={r.y + r.color}>
              <line x1={plot.left} x2={plot.left + plot.width} y1={y(r.y)} y2={y(r.y)} stroke={r.color} strokeDasharray={r.dash} strokeWidth={1.5} />
              {r.label && (
                <text x={plot.left + 4} y={y(r.y) - 4} fontSize={10} fill="currentColor">
                  {r.label}
                </text>
              )}
            </g>
          ))}
        </g>
      </svg>
    </div>
  );
}
