import { styleOfSlot, type ReplicaStyle } from "@/components/charts/replica-colors";

/**
 * The fills of ChartPatterns (patterns.tsx) for a <canvas>: a replica slot's band (its
 * colour at 60 % with the slot's white hatch) and the error classes, so a band drawn on
 * a canvas (a chart with many series, svg-chart.tsx) looks like the same band drawn in
 * SVG. `fill` is what the SVG charts put in `fill`: `url(#sy-replica-<slot>)`,
 * `url(#sy-errors-<class>)` or a plain colour.
 */

type Hatch = ReplicaStyle["hatch"];
export type TileSpec = { color: string; hatch: Hatch; rotate: boolean };

const ERRORS: Record<string, TileSpec> = {
  "4xx": { color: "#d97706", hatch: "solid", rotate: false },
  "5xx": { color: "#e11d48", hatch: "stripes", rotate: true },
  conn: { color: "#7c3aed", hatch: "dots", rotate: false },
};

/** Which tile a fill names; null for a plain colour (or a name ChartPatterns does not define). */
export function tileOf(fill: string): TileSpec | null {
  const replica = /^url\(#sy-replica-(\d{1,4})\)$/.exec(fill);
  if (replica) {
    const st = styleOfSlot(Number(replica[1]));
    return { color: st.color, hatch: st.hatch, rotate: st.hatch === "stripes" };
  }
  const errors = /^url\(#sy-errors-([a-z0-9]{1,8})\)$/.exec(fill);
  return errors ? (ERRORS[errors[1]] ?? null) : null;
}

/** An SVG stroke-dasharray ("7 3", "" = solid) as canvas setLineDash's list. */
export function dashList(dash: string | undefined): number[] {
  if (!dash) return [];
  const out = dash
    .split(/[\s,]+/)
    .map(Number)
    .filter((n) => Number.isFinite(n) && n >= 0);
  return out.length % 2 ? [...out, ...out] : out;
}

const TILE = 6;
const tiles = new WeakMap<CanvasRenderingContext2D, Map<string, CanvasPattern | null>>();

function drawTile(t: TileSpec, scale: number): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = c.height = Math.max(1, Math.round(TILE * scale));
  const g = c.getContext("2d")!;
  g.scale(scale, scale);
  g.globalAlpha = 0.6;
  g.fillStyle = t.color;
  g.fillRect(0, 0, TILE, TILE);
  g.fillStyle = g.strokeStyle = "#ffffff";
  if (t.hatch === "stripes") {
    // patterns.tsx: a 2 px line on the tile's left edge, of which the tile keeps 1 px
    g.globalAlpha = 0.6;
    g.fillRect(0, 0, 1, TILE);
  } else if (t.hatch === "dots") {
    g.globalAlpha = 0.75;
    g.beginPath();
    g.arc(3, 3, 1.1, 0, 2 * Math.PI);
    g.fill();
  } else if (t.hatch === "cross") {
    g.globalAlpha = 0.55;
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(0, 3);
    g.lineTo(TILE, 3);
    g.moveTo(3, 0);
    g.lineTo(3, TILE);
    g.stroke();
  }
  return c;
}

/** The canvas paint for a band's `fill`: the hatched pattern it names, or the colour itself. */
export function canvasFill(ctx: CanvasRenderingContext2D, fill: string, scale: number): string | CanvasPattern {
  const spec = tileOf(fill);
  if (!spec) return fill;
  let cache = tiles.get(ctx);
  if (!cache) tiles.set(ctx, (cache = new Map()));
  const key = `${fill}@${scale}`;
  let p = cache.get(key);
  if (p === undefined) {
    p = ctx.createPattern(drawTile(spec, scale), "repeat");
    // the tile is drawn at device pixels: scale it back so it repeats every 6 CSS px, as the SVG pattern does
    p?.setTransform(new DOMMatrix().scale(1 / scale).rotate(spec.rotate ? 45 : 0));
    cache.set(key, p);
  }
  return p ?? spec.color;
}
