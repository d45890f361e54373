"use client";

import { useRef } from "react";

/**
 * One colour per replica, the same in every chart and on its card. Every colour keeps
 * at least 3:1 against both the light card (white) and the dark one (zinc-900), and
 * neighbouring slots stay apart for colour-blind eyes too (blue, orange, green, pink,
 * violet, cyan, brown, magenta, olive: Okabe-Ito's hues at a luminance both themes
 * read; the old palette put green #10b981 and teal #14b8a6 at slots 3 and 6). No red:
 * red means "out of rotation" here. Colour is never the only cue: each slot also has a
 * dash pattern for its line and a hatch for its band (REPLICA_CUES), 9 colours x 4 cues
 * repeat only after 36 replicas.
 */
export const REPLICA_PALETTE = ["#0072b2", "#d97706", "#059669", "#cc79a7", "#8b5cf6", "#0891b2", "#b45309", "#c026d3", "#65a30d"];

/** The second cue of a slot: its line's dash pattern (SVG stroke-dasharray, "" = solid) and its band's hatch. */
export const REPLICA_CUES = [
  { dash: "", hatch: "solid" },
  { dash: "7 3", hatch: "stripes" },
  { dash: "2 2", hatch: "dots" },
  { dash: "9 3 2 3", hatch: "cross" },
] as const;

export type ReplicaStyle = { color: string; dash: string; hatch: (typeof REPLICA_CUES)[number]["hatch"]; slot: number };

/** WCAG relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/** WCAG contrast ratio of two #rrggbb colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The text colour (white or black) that reads best on a #rrggbb background. */
export function textOn(background: string): "#ffffff" | "#000000" {
  return contrast("#ffffff", background) >= contrast("#000000", background) ? "#ffffff" : "#000000";
}

export function styleOfSlot(slot: number): ReplicaStyle {
  const cue = REPLICA_CUES[slot % REPLICA_CUES.length];
  return { color: REPLICA_PALETTE[slot % REPLICA_PALETTE.length], dash: cue.dash, hatch: cue.hatch, slot };
}

/**
 * Pure colour allocation: replicas keep the slot they had; newcomers take the
 * lowest free slot, in the order given (the service lists replicas oldest
 * first, so the first page load colours them by age). A slot is freed only when
 * its replica is gone from both the service and the charts' history.
 */
export function allocateColors(previous: ReadonlyMap<string, number>, ids: readonly string[]): Map<string, number> {
  const next = new Map<string, number>();
  const wanted = new Set(ids);
  for (const [id, slot] of previous) if (wanted.has(id)) next.set(id, slot);
  const used = new Set(next.values());
  for (const id of ids) {
    if (next.has(id)) continue;
    let slot = 0;
    while (used.has(slot)) slot++;
    next.set(id, slot);
    used.add(slot);
  }
  return next;
}

export function colorOfSlot(slot: number): string {
  return REPLICA_PALETTE[slot % REPLICA_PALETTE.length];
}

/**
 * Stable colours and cues for the life of the page: `ids` = current replicas first
 * (oldest first), then any still in the history. The functions it returns change only
 * when the set of replicas does, so memoised charts do not redraw for them.
 */
export function useReplicaStyles(ids: readonly string[]): { colorOf: (id: string) => string; styleOf: (id: string) => ReplicaStyle } {
  const slots = useRef<Map<string, number>>(new Map());
  const key = ids.join(",");
  const lastKey = useRef<string | null>(null);
  const fns = useRef<{ colorOf: (id: string) => string; styleOf: (id: string) => ReplicaStyle } | null>(null);
  if (lastKey.current !== key || !fns.current) {
    slots.current = allocateColors(slots.current, ids);
    lastKey.current = key;
    const map = slots.current;
    fns.current = { colorOf: (id) => colorOfSlot(map.get(id) ?? 0), styleOf: (id) => styleOfSlot(map.get(id) ?? 0) };
  }
  return fns.current;
}
