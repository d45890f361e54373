/**
 * WCAG 2 contrast of sRGB hex colours, and the text colour that reads on a given
 * background (e.g. a replica's colour behind its share): white or zinc-950,
 * whichever contrasts more. Pure.
 */

const channel = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);

/** Relative luminance of "#rrggbb" (or "#rgb"). */
export function luminance(hex: string): number {
  const h = hex.replace(/^#/, "");
  const full = h.length === 3 ? [...h].map((c) => c + c).join("") : h;
  if (!/^[0-9a-f]{6}$/i.test(full)) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = [0, 2, 4].map((i) => channel(parseInt(full.slice(i, i + 2), 16) / 255));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Contrast ratio (1 to 21) of two "#rrggbb" colours. */
export function contrastRatio(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

export const LIGHT_TEXT = "#ffffff";
export const DARK_TEXT = "#09090b"; // zinc-950

/** White or zinc-950 text on `background`, whichever has the higher contrast. */
export function readableTextOn(background: string): typeof LIGHT_TEXT | typeof DARK_TEXT {
  return contrastRatio(LIGHT_TEXT, background) >= contrastRatio(DARK_TEXT, background) ? LIGHT_TEXT : DARK_TEXT;
}
