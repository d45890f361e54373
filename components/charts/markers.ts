import type { SwitchyardEvent } from "@/lib/events";
import { EVENT_KIND } from "@/lib/core/event-kinds";

/**
 * Markers on the charts (issue 12, item 10): what an operator did or what went wrong,
 * at the instant it happened, so a change in a line can be read against its cause.
 * Pure: events in, markers with their place on the x axis out.
 */
export type MarkerKind = "scale" | "autoscale" | "apply" | "fault" | "rollout";

export const MARKER_LOOK: Record<MarkerKind, { letter: string; label: string; className: string }> = {
  scale: { letter: "S", label: "scaled", className: "border-sky-700 text-sky-800 dark:border-sky-300 dark:text-sky-200" },
  autoscale: { letter: "AS", label: "autoscaled", className: "border-emerald-700 text-emerald-800 dark:border-emerald-300 dark:text-emerald-200" },
  apply: { letter: "A", label: "rules applied", className: "border-violet-700 text-violet-800 dark:border-violet-300 dark:text-violet-200" },
  fault: { letter: "F", label: "fault", className: "border-rose-700 text-rose-800 dark:border-rose-300 dark:text-rose-200" },
  rollout: { letter: "R", label: "rollout", className: "border-amber-700 text-amber-800 dark:border-amber-300 dark:text-amber-200" },
};

export type Marker = { id: number; t: number; kind: MarkerKind; text: string };

/** Replica actions that make a replica misbehave on purpose. */
const FAULT_ACTIONS = new Set(["faults", "stress-memory", "stress-cpu", "kill"]);

/** What an event marks on the charts, if anything. */
export function markerKindOf(e: Pick<SwitchyardEvent, "kind" | "data">): MarkerKind | null {
  switch (e.kind) {
    case EVENT_KIND.serviceScaled:
      return "scale";
    case EVENT_KIND.autoscaleScaled:
      return "autoscale";
    case EVENT_KIND.rulesApplied:
    case EVENT_KIND.rulesFailed:
      return "apply";
    case EVENT_KIND.rolloutStarted:
    case EVENT_KIND.rolloutStep:
    case EVENT_KIND.rolloutPaused:
    case EVENT_KIND.rolloutResumed:
    case EVENT_KIND.rolloutRollingBack:
    case EVENT_KIND.rolloutRolledBack:
    case EVENT_KIND.rolloutAborted:
    case EVENT_KIND.rolloutPromoted:
      return "rollout";
    case EVENT_KIND.replicaDied:
    case EVENT_KIND.replicaFailed:
    case EVENT_KIND.engineDied:
    case EVENT_KIND.faultStarted:
    case EVENT_KIND.faultEnded:
      return "fault";
    case EVENT_KIND.replicaAction: {
      const action = (e.data as { action?: unknown } | null)?.action;
      return typeof action === "string" && FAULT_ACTIONS.has(action) ? "fault" : null;
    }
    default:
      return null;
  }
}

/** The markers of one service's events (and engine-wide ones) inside [from, to], oldest first. */
export function chartMarkers(events: readonly SwitchyardEvent[], serviceId: string, from: number, to: number): Marker[] {
  const out: Marker[] = [];
  for (const e of events) {
    if (e.serviceId !== null && e.serviceId !== serviceId) continue;
    const kind = markerKindOf(e);
    if (!kind) continue;
    const t = Date.parse(e.at);
    if (!Number.isFinite(t) || t < from || t > to) continue;
    out.push({ id: e.id, t, kind, text: e.message });
  }
  return out.sort((a, b) => a.t - b.t || a.id - b.id);
}

/** Where `t` falls across [from, to], 0 (left edge) to 1 (right edge); null outside. */
export function xFraction(t: number, domain: readonly [number, number]): number | null {
  const [from, to] = domain;
  if (to <= from || t < from || t > to) return null;
  return (t - from) / (to - from);
}

/**
 * Markers too close to tell apart (within `minFraction` of the axis) share one place:
 * the first one's, with the count, so three quick applies show as one "A ×3" instead of
 * three letters drawn over each other.
 */
export function placeMarkers(markers: readonly Marker[], domain: readonly [number, number], minFraction = 0.02): { x: number; kind: MarkerKind; items: Marker[] }[] {
  const placed: { x: number; kind: MarkerKind; items: Marker[] }[] = [];
  for (const m of markers) {
    const x = xFraction(m.t, domain);
    if (x === null) continue;
    const near = placed.find((p) => p.kind === m.kind && Math.abs(p.x - x) < minFraction);
    if (near) near.items.push(m);
    else placed.push({ x, kind: m.kind, items: [m] });
  }
  return placed;
}
