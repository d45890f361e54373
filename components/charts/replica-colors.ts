"use client";

import { useRef } from "react";

/**
 * One colour per replica, the same in every chart and on its card. Readable on
 * light and dark backgrounds; no red (red means "out of rotation" here).
 */
export const REPLICA_PALETTE = ["#0ea5e9", "#8b5cf6", "#10b981", "#f59e0b", "#ec4899", "#14b8a6", "#f97316", "#6366f1", "#84cc16", "#d946ef", "#06b6d4", "#a16207"];

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

/** Stable colours for the life of the page: `ids` = current replicas first (oldest first), then any still in the history. */
export function useReplicaColors(ids: readonly string[]): (id: string) => string {
  const slots = useRef<Map<string, number>>(new Map());
  const key = ids.join(",");
  const lastKey = useRef<string | null>(null);
  if (lastKey.current !== key) {
    slots.current = allocateColors(slots.current, ids);
    lastKey.current = key;
  }
  const map = slots.current;
  return (id: string) => colorOfSlot(map.get(id) ?? 0);
}
