import { db } from "@/lib/db/client";

export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60_000;

/** Seconds until another attempt is allowed for any of the keys, or 0. */
export async function throttledFor(keys: string[], now = Date.now()): Promise<number> {
  const since = new Date(now - WINDOW_MS);
  let wait = 0;
  for (const key of keys) {
    const failures = await db().loginAttempt.findMany({
      where: { key, ok: false, at: { gte: since } },
      orderBy: { at: "asc" },
      select: { at: true },
    });
    if (failures.length >= MAX_FAILURES) {
      // blocked until the oldest failure that still counts leaves the window
      const oldest = failures[failures.length - MAX_FAILURES].at.getTime();
      wait = Math.max(wait, Math.ceil((oldest + WINDOW_MS - now) / 1000));
    }
  }
  return wait;
}

export async function recordAttempt(keys: string[], ok: boolean): Promise<void> {
  if (ok) {
    await db().loginAttempt.deleteMany({ where: { key: { in: keys }, ok: false } });
    return;
  }
  await db().loginAttempt.createMany({ data: keys.map((key) => ({ key, ok })) });
  await db().loginAttempt.deleteMany({ where: { at: { lt: new Date(Date.now() - WINDOW_MS * 4) } } });
}
