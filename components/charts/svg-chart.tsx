"use client";

import { useEffect, useId, useRef, useState } from "react";
import { PLOT_BOX, type ReplicaRow } from "@/components/charts/chart-frame";
import { canvasFill, dashList } from "@/components/charts/canvas-fill";
/**
 * A time chart drawn as plain SVG: lines (each with its dash) or stacked bands (each
 * with its fill), a grid, the axes, horizontal reference lines. It replaces recharts on
 * the live page (issue 12, item 14): recharts rebuilt its whole state for every chart
 * every second (about 40 ms per chart with 6 replicas, seconds with 50); this builds one
 * path string per series, a few microseconds per point, and React patches one `d`
 * attribute per series. The pure geometry is in svg-paths.ts.
 *
 * From CANVAS_FROM series on (a service with many replicas: 50 series of 300 points) the
 * series are drawn on a <canvas> under the SVG instead (issue 18): the same path strings
 * (Path2D), colours, dashes and hatched fills (canvas-fill.ts), but no DOM node per series
 * for the browser to parse, lay out and paint again every second. The grid, the axes and
 * the reference lines stay in the SVG above it; the crosshair's values (TimePlot) read the
 * rows, not the drawing, so hover works the same.
 */
export type PlotSeries = { key: string; label: string; color: string; dash?: string; fill?: string };

import { areaPaths, linePath, scaleX, scaleY } from "@/components/charts/svg-paths";

/** From this many series a chart draws them on a canvas (the e2e tests, 3 to 5 replicas, read the SVG paths below it). */
export const CANVAS_FROM = 10;

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
  const onCanvas = series.length >= CANVAS_FROM;
  const areas = mode === "stacked" && !onCanvas ? areaPaths(rows, keys, x, y, step) : null;
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  // the canvas is drawn after each render that changed what it shows (a tick, a resize, other series)
  useEffect(() => {
    const c = canvasRef.current;
    if (!onCanvas || !c) return;
    const scale = window.devicePixelRatio || 1;
    const w = Math.round(width * scale);
    const h = Math.round(height * scale);
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    const ctx = c.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.left, plot.top - 2, plot.width, plot.height + 4);
    ctx.clip();
    const cx = scaleX(domain, plot.left, plot.width);
    const cy = scaleY(yMax, plot.top, plot.height);
    if (mode === "stacked") {
      const bands = areaPaths(rows, keys, cx, cy, step);
      series.forEach((s, i) => {
        if (!bands[i]) return;
        ctx.globalAlpha = s.fill ? 1 : 0.6;
        ctx.fillStyle = canvasFill(ctx, s.fill ?? s.color, scale);
        ctx.fill(new Path2D(bands[i]));
      });
    } else {
      ctx.lineWidth = 1.75;
      ctx.lineJoin = "round";
      for (const s of series) {
        const d = linePath(rows, s.key, cx, cy, step);
        if (!d) continue;
        ctx.strokeStyle = s.color;
        ctx.setLineDash(dashList(s.dash));
        ctx.stroke(new Path2D(d));
      }
    }
    ctx.restore();
    c.dataset.drawnPoints = String(rows.length);
    // keys, plot and the scales follow from the listed values
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [onCanvas, rows, series, mode, step, width, height, domain[0], domain[1], yMax]);
  return (
    // overflow hidden: before the first measure (the server's render, 400 px) the drawing may be wider than a phone.
    // content-visibility auto: while the chart is off screen the browser skips its style, layout and paint (the
    // DOM still gets every tick's paths); its height is fixed, so nothing moves when it comes into view
    <div ref={ref} data-testid={testId} style={{ height }} className="relative overflow-hidden [content-visibility:auto]">
      {onCanvas && (
        <canvas ref={canvasRef} data-testid="chart-canvas" data-series-count={series.length} aria-hidden className="absolute left-0 top-0 block" style={{ width, height }} />
      )}
      <svg width={width} height={height} className="relative block">
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
          {onCanvas
            ? null
            : areas
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
