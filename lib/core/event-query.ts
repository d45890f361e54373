import { z } from "zod";
import { AppError } from "@/lib/core/errors";
import { EVENT_KIND } from "@/lib/core/event-kinds";

/**
 * What the Events page (the audit log) and GET /api/events may ask for: filters by kind
 * (one kind, or a group such as "replica" for every replica.* kind), service, actor, a
 * search in the message, and a page (events older than the cursor `before`, newest
 * first). The page keeps the same fields in its URL, so a filtered view can be shared.
 * Pure: the API, the page and the browser's live filter use this one definition.
 */

export const EVENT_KINDS: readonly string[] = Object.values(EVENT_KIND).sort();
/** "auth", "engine", "replica", …: the part of a kind before its dot. */
export const EVENT_KIND_GROUPS: readonly string[] = [...new Set(EVENT_KINDS.map((k) => k.split(".")[0]))].sort();

export const EVENT_PAGE_DEFAULT = 50;
export const EVENT_PAGE_MAX = 1000;
/** The longest search text; a search is a plain substring, never a pattern. */
export const EVENT_SEARCH_MAX = 100;

const kindSchema = z.string().refine((k) => EVENT_KINDS.includes(k) || EVENT_KIND_GROUPS.includes(k), "an event kind (e.g. replica.ready) or a group (e.g. replica)");
// actors are user names (lib/core/users.ts), "controller" and "system"
const actorSchema = z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, "a user name, controller or system");
// printable text only: no control characters (a NUL or a newline has no business in a search box)
const searchSchema = z
  .string()
  .trim()
  .max(EVENT_SEARCH_MAX, `at most ${EVENT_SEARCH_MAX} characters`)
  .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), "no control characters");

export const eventQuerySchema = z
  .object({
    kind: kindSchema.optional(),
    service: z.string().regex(/^[a-z0-9]{1,40}$/, "a service id").optional(),
    actor: actorSchema.optional(),
    q: searchSchema.optional(),
    before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(EVENT_PAGE_MAX).default(EVENT_PAGE_DEFAULT),
  })
  .strict();

export type EventQuery = z.infer<typeof eventQuerySchema>;
export type EventFilters = Omit<EventQuery, "before" | "limit">;

const FIELDS = ["kind", "service", "actor", "q", "before", "limit"] as const;

/**
 * Query-string parameters to a query: an unknown name, a repeated name or a bad value is
 * a `bad_request` (400) naming the field. Empty values mean "no filter" (a form that
 * submits every field, blank ones included).
 */
export function parseEventQuery(params: URLSearchParams): EventQuery {
  const raw: Record<string, string> = {};
  for (const [name, value] of params) {
    if (name in raw) throw new AppError("bad_request", `${name}: given more than once`);
    raw[name] = value;
  }
  const unknown = Object.keys(raw).filter((n) => !(FIELDS as readonly string[]).includes(n));
  if (unknown.length) throw new AppError("bad_request", `unknown parameter ${unknown.slice(0, 3).map((n) => JSON.stringify(n.slice(0, 40))).join(", ")}; use ${FIELDS.join(", ")}`);
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v.trim() !== ""));
  const parsed = eventQuerySchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError("bad_request", `${issue.path.join(".") || "query"}: ${issue.message}`);
  }
  const q = parsed.data;
  return q.q === "" ? { ...q, q: undefined } : q;
}

/** A query back to URL parameters (only what is set; the default limit left out), for links and the API. */
export function eventQueryParams(q: Partial<EventQuery>): URLSearchParams {
  const p = new URLSearchParams();
  if (q.kind) p.set("kind", q.kind);
  if (q.service) p.set("service", q.service);
  if (q.actor) p.set("actor", q.actor);
  if (q.q) p.set("q", q.q);
  if (q.before) p.set("before", String(q.before));
  if (q.limit && q.limit !== EVENT_PAGE_DEFAULT) p.set("limit", String(q.limit));
  return p;
}

/** Does `kind` pass the kind filter (exact kind, or every kind of a group)? */
export const kindMatches = (filter: string | undefined, kind: string): boolean => !filter || kind === filter || kind.startsWith(`${filter}.`);

/** Case-insensitive plain substring (what SQLite's LIKE does for ASCII, without wildcards). */
export const textMatches = (search: string | undefined, text: string): boolean => !search || text.toLowerCase().includes(search.toLowerCase());

/** Does an event (as the reader sees it) pass the filters? The live list uses it for events pushed after the page loaded. */
export function eventMatches(f: EventFilters, e: { kind: string; serviceId: string | null; actor: string; message: string }): boolean {
  return kindMatches(f.kind, e.kind) && (!f.service || e.serviceId === f.service) && (!f.actor || e.actor === f.actor) && textMatches(f.q, e.message);
}

export const hasFilters = (f: EventFilters): boolean => Boolean(f.kind || f.service || f.actor || f.q);

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

/** One event as the API returns it (lib/events.ts SwitchyardEvent). */
export const eventSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  serviceId: z.string().nullable(),
  replicaId: z.string().nullable(),
  kind: z.string(),
  level: z.enum(["info", "warn", "error"]),
  message: z.string(),
  actor: z.string(),
  data: z.unknown(),
});

/** GET /api/events: a page, newest first, and the cursor of the next (older) one. */
export const eventPageSchema = z.object({ events: z.array(eventSchema), nextBefore: z.number().int().nullable() });
