import { remember } from "@/lib/remember";

/**
 * In-memory sliding windows: at most `max` uses per `key` in `windowMs`. One store per
 * `name` (sign-in attempts per address, previews per user). Synchronous on purpose:
 * requests running in parallel see each other's use at once. A restart forgets them.
 */
export function takeSlot(name: string, key: string, max: number, windowMs: number, now = Date.now()): { waitS: number } | null {
  const store = remember(name, () => new Map<string, number[]>());
  const times = (store.get(key) ?? []).filter((t) => t > now - windowMs);
  if (times.length >= max) {
    store.set(key, times);
    return { waitS: Math.max(1, Math.ceil((times[0] + windowMs - now) / 1000)) };
  }
  times.push(now);
  store.set(key, times);
  if (store.size > 10_000) for (const [k, v] of store) if (v.every((t) => t <= now - windowMs)) store.delete(k); // forget quiet keys
  return null;
}
