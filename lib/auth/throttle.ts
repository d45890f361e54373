import { db } from "@/lib/db/client";
import { takeSlot } from "@/lib/rate-limit";

/**
 * Sign-in throttling, as trusted systems do it (issue 10, Medium 8). Before, five
 * failures for a name blocked that name from every address, and five failures with
 * random names blocked everyone behind the address, for 15 minutes. Now:
 *
 * - failures count per (name, address) pair: five in WINDOW_MS block that name from
 *   that address only; a user signing in from anywhere else is not affected;
 * - a ceiling per address, whatever the names: ADDRESS_FAILURES failures in WINDOW_MS
 *   block the address (a password spray); a success never lowers it, so an attacker
 *   with one valid account cannot reset it;
 * - every attempt, right or wrong, counts against ATTEMPTS_PER_MINUTE per address,
 *   so even correct sign-ins cannot keep the password hasher busy (Medium 10).
 *
 * Failures live in the database (they survive a restart); the per-minute attempts are
 * counted in memory, so parallel requests see each other at once.
 */

export const PAIR_FAILURES = 5;
export const ADDRESS_FAILURES = 20;
export const WINDOW_MS = 15 * 60_000;
export const ATTEMPTS_PER_MINUTE = 20;

export type Throttle = { waitS: number; scope: "pair" | "address" | "attempts" };

const pairKey = (username: string, ip: string) => `pair:${ip} ${username.toLowerCase()}`;
const addressKey = (ip: string) => `ip:${ip}`;

/** Seconds until `keyed` has fewer than `max` failures in the window, or 0. */
async function failureWait(key: string, max: number, now: number): Promise<number> {
  const failures = await db().loginAttempt.findMany({
    where: { key, ok: false, at: { gte: new Date(now - WINDOW_MS) } },
    orderBy: { at: "desc" },
    take: max,
    select: { at: true },
  });
  if (failures.length < max) return 0;
  // blocked until the oldest failure that still counts leaves the window
  return Math.max(1, Math.ceil((failures[max - 1].at.getTime() + WINDOW_MS - now) / 1000));
}

/**
 * Counts this attempt against the address's per-minute budget, or says how long to
 * wait. Called before the password is checked, and synchronous: fifty parallel
 * requests see each other.
 */
export function takeAttempt(ip: string, now = Date.now()): Throttle | null {
  const wait = takeSlot("sign-in-attempts", ip, ATTEMPTS_PER_MINUTE, 60_000, now);
  return wait && { ...wait, scope: "attempts" };
}

/** Is this name blocked from this address, or this address for every name? */
export async function throttledFor(username: string, ip: string, now = Date.now()): Promise<Throttle | null> {
  const address = await failureWait(addressKey(ip), ADDRESS_FAILURES, now);
  if (address > 0) return { waitS: address, scope: "address" };
  const pair = await failureWait(pairKey(username, ip), PAIR_FAILURES, now);
  return pair > 0 ? { waitS: pair, scope: "pair" } : null;
}

export async function recordFailure(username: string, ip: string): Promise<void> {
  await db().loginAttempt.createMany({ data: [pairKey(username, ip), addressKey(ip)].map((key) => ({ key, ok: false })) });
  await db().loginAttempt.deleteMany({ where: { at: { lt: new Date(Date.now() - WINDOW_MS * 4) } } });
}

/** A success clears the failures of that name from that address (not the address's ceiling). */
export async function recordSuccess(username: string, ip: string): Promise<void> {
  await db().loginAttempt.deleteMany({ where: { key: pairKey(username, ip), ok: false } });
}
