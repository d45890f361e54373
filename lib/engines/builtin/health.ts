import type { AdminState } from "../../core/rules";
import type { ServerHealth } from "../types";

/**
 * Pure health bookkeeping of one server in the builtin proxy: the rise/fall
 * state machine of active checks and the passive failure window. The proxy
 * owns the timers and sockets; these functions only say what a result means.
 */

export type HealthState = {
  /** what active checks say (a server starts up, like HAProxy, until `fall` checks fail) */
  up: boolean;
  /** consecutive results that disagree with `up`, counting towards rise or fall */
  streak: number;
  /** last check result in words: "HTTP 200", "HTTP 503", "connect ECONNREFUSED", "timeout" */
  reason: string | null;
  /** set when passive failures took the server out; cleared by the next good active check */
  passiveDown: string | null;
  /** when the reported status last changed (epoch ms) */
  changedAt: number;
};

export const initialHealth = (now: number): HealthState => ({ up: true, streak: 0, reason: null, passiveDown: null, changedAt: now });

/** Fold one active check result into the state. */
export function observeCheck(s: HealthState, ok: boolean, reason: string, now: number, rise: number, fall: number): HealthState {
  const wasUp = isUp(s);
  let { up, streak, passiveDown } = s;
  if (ok) passiveDown = null;
  if (ok === up) streak = 0;
  else {
    streak += 1;
    if (streak >= (up ? fall : rise)) {
      up = !up;
      streak = 0;
    }
  }
  const next = { up, streak, reason, passiveDown, changedAt: s.changedAt };
  if (isUp(next) !== wasUp) next.changedAt = now;
  return next;
}

/** Take the server out after passive failures (until a good active check). */
export function markPassiveDown(s: HealthState, why: string, now: number): HealthState {
  if (s.passiveDown !== null) return s;
  return { ...s, passiveDown: why, changedAt: isUp(s) ? now : s.changedAt };
}

export const isUp = (s: HealthState): boolean => s.up && s.passiveDown === null;

/**
 * Record a passive failure at `now` in the sliding window. Returns the window
 * to keep and whether it now holds `maxFails` failures (0 disables passive checks).
 */
export function recordFailure(times: readonly number[], now: number, failTimeoutMs: number, maxFails: number): { times: number[]; tripped: boolean } {
  if (maxFails <= 0) return { times: [], tripped: false };
  const kept = times.filter((t) => t > now - failTimeoutMs);
  kept.push(now);
  return { times: kept.slice(-maxFails), tripped: kept.length >= maxFails };
}

/** May the server take a new (non-sticky or sticky) request? */
export const isEligible = (adminState: AdminState, s: HealthState): boolean => adminState === "ready" && isUp(s);

/** What stats report: the admin state wins over health for maint, health wins over drain. */
export function reportHealth(adminState: AdminState, s: HealthState, now: number): ServerHealth {
  const status: ServerHealth["status"] = adminState === "maint" ? "maint" : !isUp(s) ? "down" : adminState === "drain" ? "drain" : "up";
  const reason = s.passiveDown ?? s.reason;
  return { status, reason, lastChangeMs: Math.max(0, now - s.changedAt) };
}
