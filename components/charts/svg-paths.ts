import type { ReplicaRow } from "@/components/charts/chart-frame";

/**
 * Pure geometry of the SVG time charts: scales and path strings. A missing value (null
 * or absent) breaks a line; in a stack it counts as 0 for the bands above and breaks
 * its own band.
 */

export function scaleX(domain: readonly [number, number], left: number, width: number): (t: number) => number {
  const [from, to] = domain;
  const span = to - from || 1;
  return (t) => Math.round((left + ((t - from) / span) * width) * 10) / 10;
}

export function scaleY(max: number, top: number, height: number): (v: number) => number {
  const m = max > 0 ? max : 1;
  return (v) => Math.round((top + height - (Math.max(0, v) / m) * height) * 10) / 10;
}

const valueOf = (row: ReplicaRow, key: string): number | null => {
  const v = row[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
};

/** One series as a polyline ("M x y L x y …"), broken where it has no value; `step` holds each value to the next point. */
export function linePath(rows: readonly ReplicaRow[], key: string, x: (t: number) => number, y: (v: number) => number, step = false): string {
  let d = "";
  let open = false;
  for (let i = 0; i < rows.length; i++) {
    const v = valueOf(rows[i], key);
    if (v === null) {
      open = false;
      continue;
    }
    const px = x(rows[i].t);
    const py = y(v);
    d += `${open ? "L" : "M"}${px} ${py}`;
    open = true;
    if (step) {
      const next = rows[i + 1];
      if (next) d += `L${x(next.t)} ${py}`;
    }
  }
  return d;
}

/**
 * Stacked bands, one closed path per key (in order: the first at the bottom). Each
 * band runs along its top (the sum up to it) and back along its bottom (the sum below
 * it), and breaks where its own value is missing.
 */
export function areaPaths(rows: readonly ReplicaRow[], keys: readonly string[], x: (t: number) => number, y: (v: number) => number, step = false): string[] {
  const below = new Float64Array(rows.length);
  const out: string[] = [];
  for (const key of keys) {
    let d = "";
    let run: { px: number[]; top: number[]; bottom: number[] } = { px: [], top: [], bottom: [] };
    const flush = () => {
      if (run.px.length) {
        let seg = `M${run.px[0]} ${run.top[0]}`;
        for (let j = 1; j < run.px.length; j++) seg += `L${run.px[j]} ${run.top[j]}`;
        for (let j = run.px.length - 1; j >= 0; j--) seg += `L${run.px[j]} ${run.bottom[j]}`;
        d += seg + "Z";
      }
      run = { px: [], top: [], bottom: [] };
    };
    for (let i = 0; i < rows.length; i++) {
      const v = valueOf(rows[i], key);
      if (v === null) {
        flush();
        continue;
      }
      const base = below[i];
      const top = base + Math.max(0, v);
      const px = x(rows[i].t);
      run.px.push(px);
      run.top.push(y(top));
      run.bottom.push(y(base));
      if (step && rows[i + 1]) {
        run.px.push(x(rows[i + 1].t));
        run.top.push(y(top));
        run.bottom.push(y(base));
      }
      below[i] = top;
    }
    flush();
    out.push(d);
  }
  return out;
}

/** The row whose time is nearest `t` (rows in time order), by bisection; null for no rows. */
export function nearestRow<R extends { t: number }>(rows: readonly R[], t: number): R | null {
  if (rows.length === 0) return null;
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  const prev = rows[lo - 1];
  return prev && Math.abs(prev.t - t) <= Math.abs(rows[lo].t - t) ? prev : rows[lo];
}
