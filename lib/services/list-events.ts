import { db } from "@/lib/db/client";
import { toEvent, type SwitchyardEvent } from "@/lib/events";
import type { Role } from "@/lib/core/roles";
import { EVENT_KINDS, eventMatches, type EventQuery } from "@/lib/core/event-query";
import { eventsFor } from "@/lib/services/views";

export async function listEvents(opts: { serviceId?: string; limit?: number; before?: number } = {}): Promise<SwitchyardEvent[]> {
  const rows = await db().event.findMany({
    where: { ...(opts.serviceId ? { serviceId: opts.serviceId } : {}), ...(opts.before ? { id: { lt: opts.before } } : {}) },
    orderBy: { id: "desc" },
    take: Math.min(opts.limit ?? 200, 1000),
  });
  return rows.map(toEvent);
}

export type EventPage = {
  /** newest first, as the reader may see them */
  events: SwitchyardEvent[];
  /** the cursor of the next (older) page, or null when this is the last */
  nextBefore: number | null;
};

/** How many rows a search reads at most for one page (see below). */
const SEARCH_SCAN_MAX = 5000;

function whereOf(q: EventQuery, before: number | undefined) {
  return {
    ...(q.kind ? (EVENT_KINDS.includes(q.kind) ? { kind: q.kind } : { kind: { startsWith: `${q.kind}.` } }) : {}),
    ...(q.service ? { serviceId: q.service } : {}),
    ...(q.actor ? { actor: q.actor } : {}),
    // Prisma's contains is a LIKE in which % and _ stay wildcards: a superset, matched again as plain text below
    ...(q.q ? { message: { contains: q.q } } : {}),
    ...(before ? { id: { lt: before } } : {}),
  };
}

/**
 * One page of the audit log, filtered in the database, newest first.
 *
 * A search is a plain substring. The database narrows with LIKE, where "%" and "_" are
 * wildcards (so "50%" would also find "50 percent"); each row is then matched again as
 * text, as the reader sees it: a viewer reads messages with secrets and paths hidden
 * (views.ts), and their search must not match what they cannot see, or it would be an
 * oracle ("does any message contain s3cr…?"). A page is filled from further rows until
 * it is full or SEARCH_SCAN_MAX rows were read (then the cursor goes on from there).
 */
export async function queryEvents(role: Role, q: EventQuery): Promise<EventPage> {
  if (!q.q) {
    const rows = await db().event.findMany({ where: whereOf(q, q.before), orderBy: { id: "desc" }, take: q.limit + 1 });
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    return { events: await eventsFor(role, page.map(toEvent)), nextBefore: more ? page[page.length - 1].id : null };
  }
  const found: SwitchyardEvent[] = [];
  let cursor = q.before;
  let scanned = 0;
  for (;;) {
    const batch = await db().event.findMany({ where: whereOf(q, cursor), orderBy: { id: "desc" }, take: 200 });
    scanned += batch.length;
    for (const e of await eventsFor(role, batch.map(toEvent))) {
      if (!eventMatches(q, e)) continue;
      if (found.length === q.limit) return { events: found, nextBefore: found[found.length - 1].id };
      found.push(e);
    }
    if (batch.length < 200) return { events: found, nextBefore: null };
    cursor = batch[batch.length - 1].id;
    // many rows read for few matches: stop here; the next page goes on from the cursor
    if (scanned >= SEARCH_SCAN_MAX) return { events: found, nextBefore: cursor };
  }
}

/** Who appears in the log (for the actor filter): user names, "controller", "system"; at most 200. */
export async function eventActors(): Promise<string[]> {
  const rows = await db().event.findMany({ distinct: ["actor"], select: { actor: true }, orderBy: { actor: "asc" }, take: 200 });
  return rows.map((r) => r.actor);
}
