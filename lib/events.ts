import { EventEmitter } from "node:events";
import { db } from "@/lib/db/client";
import { remember } from "@/lib/remember";
import type { RecordedEventKind } from "@/lib/core/event-kinds";

export type EventLevel = "info" | "warn" | "error";

export type SwitchyardEvent = {
  id: number;
  at: string;
  serviceId: string | null;
  replicaId: string | null;
  /** an EventKind (lib/core/event-kinds.ts); a string, as rows written by another version may carry a kind this one does not know */
  kind: string;
  level: EventLevel;
  message: string;
  actor: string;
  data: unknown;
};

export type NewEvent = {
  kind: RecordedEventKind;
  message: string;
  actor: string;
  level?: EventLevel;
  serviceId?: string | null;
  replicaId?: string | null;
  data?: unknown;
};

/** In-process bus: the realtime layer forwards these to socket.io rooms. */
export function bus(): EventEmitter {
  return remember("bus", () => {
    const e = new EventEmitter();
    e.setMaxListeners(100);
    return e;
  });
}

/** The event table is bounded: older than this, or past this many rows, events are deleted. */
export const EVENT_MAX_AGE_DAYS = 30;
export const EVENT_MAX_ROWS = 50_000;
/** Every this many new events, the table is pruned (and once at start, lib/bootstrap.ts). */
const PRUNE_EVERY = 500;

const rowOf = (e: NewEvent) => ({
  kind: e.kind,
  message: e.message.slice(0, 2000),
  actor: e.actor,
  level: e.level ?? "info",
  serviceId: e.serviceId ?? null,
  replicaId: e.replicaId ?? null,
  data: e.data === undefined ? null : JSON.stringify(e.data),
});

/** Every state change and every audit-worthy action goes through here. */
export async function recordEvent(e: NewEvent): Promise<SwitchyardEvent> {
  const row = await db().event.create({ data: rowOf(e) });
  const event = toEvent(row);
  bus().emit("event", event);
  const counter = remember("events-since-prune", () => ({ n: 0 }));
  if (++counter.n >= PRUNE_EVERY) {
    counter.n = 0;
    void pruneEvents().catch((err) => console.error(`[switchyard] pruning events failed: ${err instanceof Error ? err.message : err}`));
  }
  return event;
}

/** Deletes events older than EVENT_MAX_AGE_DAYS and all but the newest EVENT_MAX_ROWS; returns how many went. */
export async function pruneEvents(now = Date.now(), limits = { maxAgeDays: EVENT_MAX_AGE_DAYS, maxRows: EVENT_MAX_ROWS }): Promise<number> {
  const old = await db().event.deleteMany({ where: { at: { lt: new Date(now - limits.maxAgeDays * 86_400_000) } } });
  const firstDropped = await db().event.findFirst({ orderBy: { id: "desc" }, skip: limits.maxRows, select: { id: true } });
  const extra = firstDropped ? await db().event.deleteMany({ where: { id: { lte: firstDropped.id } } }) : { count: 0 };
  return old.count + extra.count;
}

type Repeated = { id: number; count: number; until: number; make: (count: number) => NewEvent; flush: NodeJS.Timeout | null };

/**
 * An event that may repeat many times a second (a refused sign-in): the first one in
 * `windowMs` for `key` is recorded and pushed as usual; the repeats only raise its
 * count, written to the same row at most every few seconds and pushed to nobody. So a
 * flood of 400 refused sign-ins is one event saying 400, not 400 rows and pushes.
 */
export async function recordRepeated(key: string, windowMs: number, make: (count: number) => NewEvent, now = Date.now()): Promise<void> {
  const open = remember("repeated-events", () => new Map<string, Repeated>());
  const current = open.get(key);
  if (current && now < current.until) {
    current.count++;
    current.make = make;
    current.flush ??= setTimeout(() => {
      current.flush = null;
      const e = current.make(current.count);
      void db()
        .event.update({ where: { id: current.id }, data: { message: rowOf(e).message, data: rowOf(e).data } })
        .catch(() => undefined); // pruned meanwhile
    }, 2000).unref();
    return;
  }
  for (const [k, r] of open) if (now >= r.until && !r.flush) open.delete(k); // ended windows
  const entry: Repeated = { id: 0, count: 1, until: now + windowMs, make, flush: null };
  open.set(key, entry);
  entry.id = (await recordEvent(make(1))).id;
}

export function toEvent(row: {
  id: number;
  at: Date;
  serviceId: string | null;
  replicaId: string | null;
  kind: string;
  level: string;
  message: string;
  actor: string;
  data: string | null;
}): SwitchyardEvent {
  let data: unknown = null;
  if (row.data) {
    try {
      data = JSON.parse(row.data);
    } catch {
      data = null;
    }
  }
  return {
    id: row.id,
    at: row.at.toISOString(),
    serviceId: row.serviceId,
    replicaId: row.replicaId,
    kind: row.kind,
    level: (["info", "warn", "error"].includes(row.level) ? row.level : "info") as EventLevel,
    message: row.message,
    actor: row.actor,
    data,
  };
}
