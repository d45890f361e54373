import type { HealthStatus } from "@/lib/core/metrics";

/**
 * What a health change of a replica, as the engine reports it, means in words.
 * Pure, so the collector's `replica.health` events and the dashboard agree
 * (issue 12, item 8).
 */

export type HealthObservation = { status: HealthStatus; reason: string | null };

/**
 * No check has completed yet: HAProxy registers a dynamic server in MAINT and
 * reports check_status INI (or UNK, or none) until its first check, so a tick
 * between `add server` and the first check sees it out of rotation without a
 * failure. ("unknown", an engine that reports nothing, is not taken for
 * pending: the engine may be down.)
 */
export function checkPending(h: HealthObservation): boolean {
  if (h.status === "up" || h.status === "nocheck" || h.status === "unknown") return false;
  const reason = (h.reason ?? "").trim();
  return reason === "" || /^(INI|UNK)\b/i.test(reason);
}

/**
 * Down although the last active check passed: the passive error limit took it
 * out (HAProxy `observe layer7 error-limit N on-error mark-down` leaves the
 * check status at L7OK/L6OK/L4OK; the builtin engine says "passive: …").
 */
export function passiveTakedown(h: HealthObservation): boolean {
  if (h.status !== "down") return false;
  const reason = (h.reason ?? "").trim();
  return /^(L7OKC?|L6OK|L4OK)\b/i.test(reason) || /^passive\b/i.test(reason);
}

export type HealthEvent = { level: "info" | "warn"; message: string };

/**
 * The event for a change from `before` to `after`, or null when there is
 * nothing to log: the first observation, a change that is not between up and
 * down, or a replica still waiting for its first check.
 * `passiveMaxFails` is the service's passive.maxFails (0 when off or unknown).
 */
export function healthEventFor(replicaId: string, before: HealthObservation | undefined, after: HealthObservation, passiveMaxFails = 0): HealthEvent | null {
  if (before === undefined) return null;
  if (after.status !== "up" && after.status !== "down") return null;
  const wasUp = before.status === "up";
  const isUp = after.status === "up";
  if (wasUp === isUp) return null;
  if (isUp) {
    return checkPending(before)
      ? { level: "info", message: `replica ${replicaId} passes its first health check: in rotation` }
      : { level: "info", message: `replica ${replicaId} passes its health check again: back in rotation` };
  }
  if (checkPending(after)) return null; // not checked yet is not a failure
  if (passiveTakedown(after)) {
    const reason = (after.reason ?? "").trim();
    const detail = /^passive\b/i.test(reason)
      ? reason.replace(/^passive:?\s*/i, "")
      : passiveMaxFails > 0
        ? `${passiveMaxFails} consecutive error${passiveMaxFails === 1 ? "" : "s"}`
        : "";
    return { level: "warn", message: `replica ${replicaId} taken out of rotation by the passive error limit${detail ? ` (${detail})` : ""}` };
  }
  return { level: "warn", message: `replica ${replicaId} fails its health check (${after.reason ?? "no reason given"}): out of rotation` };
}
