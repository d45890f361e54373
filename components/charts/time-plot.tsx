"use client";

import { createContext, useContext, useId, useState, useSyncExternalStore, type ReactNode } from "react";
import { clock } from "@/components/charts/chart-frame";
import { MARKER_LOOK, placeMarkers, xFraction, type Marker } from "@/components/charts/markers";

/**
 * What every time chart shares: the crosshair (hover one chart, every chart shows that
 * instant) and the event markers, drawn as HTML over the plot rather than inside the
 * chart's SVG. Moving the mouse then re-renders only the crosshair lines (a small
 * store each line subscribes to), never the charts.
 */
/** The instant under the pointer and which chart the pointer is on. */
export type CrosshairAt = { t: number; source: string };
export type CrosshairStore = { get(): CrosshairAt | null; set(at: CrosshairAt | null): void; subscribe(fn: () => void): () => void };

export function createCrosshairStore(): CrosshairStore {
  let value: CrosshairAt | null = null;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(at) {
      if (at === value || (at && value && at.t === value.t && at.source === value.source)) return;
      value = at;
      for (const fn of listeners) fn();
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

const CrosshairContext = createContext<CrosshairStore | null>(null);

export function CrosshairProvider({ children }: { children: ReactNode }) {
  const [store] = useState(createCrosshairStore);
  return <CrosshairContext.Provider value={store}>{children}</CrosshairContext.Provider>;
}

const noStore: CrosshairStore = { get: () => null, set: () => undefined, subscribe: () => () => undefined };

function useCrosshairStore(): CrosshairStore {
  return useContext(CrosshairContext) ?? noStore;
}

/** The time under the pointer, snapped to the chart's resolution; null outside the plot. */
export function timeAt(fraction: number, domain: readonly [number, number], snapMs: number): number | null {
  if (!(fraction >= 0 && fraction <= 1)) return null;
  const t = domain[0] + fraction * (domain[1] - domain[0]);
  return Math.round(t / snapMs) * snapMs;
}

export type PlotBox = { left: number; right: number; top: number; bottom: number };

export type ReadoutLine = { label: string; color: string; value: string };

function Crosshair({ domain, box, self, readout }: { domain: readonly [number, number]; box: PlotBox; self: string; readout?: (t: number) => ReadoutLine[] }) {
  const store = useCrosshairStore();
  const at = useSyncExternalStore(store.subscribe, store.get, () => null);
  const t = at?.t ?? null;
  const x = t === null ? null : xFraction(t, domain);
  if (x === null || t === null) return null;
  // the values at that instant, on the chart the pointer is on (the others show the line)
  const lines = at?.source === self && readout ? readout(t) : null;
  return (
    <div
      data-testid="crosshair"
      data-t={t}
      aria-hidden
      className="pointer-events-none absolute border-l border-zinc-700 dark:border-zinc-300"
      style={{ left: `calc(${box.left}px + (100% - ${box.left + box.right}px) * ${x})`, top: box.top, bottom: box.bottom }}
    >
      <span className="absolute -top-0.5 left-1 whitespace-nowrap rounded bg-zinc-800 px-1 font-mono text-[10px] leading-4 text-white dark:bg-zinc-200 dark:text-zinc-900">{clock(t)}</span>
      {lines && (
        <div data-testid="crosshair-readout" className={`absolute top-5 z-10 min-w-32 rounded-md border border-zinc-200 bg-white/95 px-2 py-1 text-xs text-zinc-800 shadow-md dark:border-zinc-700 dark:bg-zinc-900/95 dark:text-zinc-200 ${x > 0.6 ? "right-1" : "left-1"}`}>
          {lines.length === 0 && <div className="text-zinc-600 dark:text-zinc-400">no data at this instant</div>}
          {lines.slice(0, 12).map((l) => (
            <div key={l.label} className="flex items-center gap-1.5 whitespace-nowrap">
              <span className="inline-block h-2 w-2 rounded-sm" style={{ backgroundColor: l.color }} />
              <span className="font-mono">{l.label}</span>
              <span className="ml-auto pl-3 tabular-nums">{l.value}</span>
            </div>
          ))}
          {lines.length > 12 && <div className="text-zinc-600 dark:text-zinc-400">+{lines.length - 12} more</div>}
        </div>
      )}
    </div>
  );
}

function Markers({ markers, domain, box }: { markers: readonly Marker[]; domain: readonly [number, number]; box: PlotBox }) {
  const placed = placeMarkers(markers, domain);
  return (
    <>
      {placed.map((p) => {
        const look = MARKER_LOOK[p.kind];
        const title = p.items.map((m) => `${clock(m.t)} ${m.text}`).join("\n");
        return (
          <div
            key={`${p.kind}-${p.items[0].id}`}
            data-testid="chart-marker"
            data-kind={p.kind}
            title={title}
            className={`pointer-events-none absolute border-l border-dashed ${look.className}`}
            style={{ left: `calc(${box.left}px + (100% - ${box.left + box.right}px) * ${p.x})`, top: box.top, bottom: box.bottom }}
          >
            <span className={`absolute -left-2 -top-1 rounded-sm border bg-white px-0.5 text-[10px] font-bold leading-3 dark:bg-zinc-900 ${look.className}`}>
              {look.letter}
              {p.items.length > 1 ? `×${p.items.length}` : ""}
            </span>
          </div>
        );
      })}
    </>
  );
}

/** One line a screen reader hears for the markers of a chart. */
export function markersSummary(markers: readonly Marker[]): string {
  if (markers.length === 0) return "";
  const counts = new Map<string, number>();
  for (const m of markers) counts.set(MARKER_LOOK[m.kind].label, (counts.get(MARKER_LOOK[m.kind].label) ?? 0) + 1);
  return ` Marked: ${[...counts].map(([label, n]) => `${label} ${n}×`).join(", ")}.`;
}

/**
 * The plot of a time chart: named for assistive technology (role img, `label`, the
 * drawing itself is hidden from it; recharts' keyboard layer used to be an unnamed
 * "application" tab stop), with the shared crosshair and the markers over it.
 * `box`: where the plot area sits inside, in px from each edge.
 */
export function TimePlot({
  label,
  domain,
  snapMs,
  markers,
  box,
  readout,
  children,
}: {
  label: string;
  domain: readonly [number, number];
  snapMs: number;
  markers: readonly Marker[];
  box: PlotBox;
  /** the chart's values at an instant, shown by the crosshair on the chart under the pointer */
  readout?: (t: number) => ReadoutLine[];
  children: ReactNode;
}) {
  const store = useCrosshairStore();
  const self = useId();
  const onMove = (e: React.MouseEvent<HTMLDivElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const width = rect.width - box.left - box.right;
    const t = width > 0 ? timeAt((e.clientX - rect.left - box.left) / width, domain, snapMs) : null;
    store.set(t === null ? null : { t, source: self });
  };
  return (
    <div role="img" aria-label={label + markersSummary(markers)} className="relative" onMouseMove={onMove} onMouseLeave={() => store.set(null)} data-testid="time-plot">
      <div aria-hidden>{children}</div>
      <Markers markers={markers} domain={domain} box={box} />
      <Crosshair domain={domain} box={box} self={self} readout={readout} />
    </div>
  );
}
