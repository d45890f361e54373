"use client";

import Link from "next/link";
import type { SwitchyardEvent } from "@/lib/events";
import { useLiveEvents } from "@/lib/client/live";
import { EVENT_KIND_GROUPS, EVENT_KINDS, EVENT_SEARCH_MAX, eventMatches, eventQueryParams, hasFilters, type EventQuery } from "@/lib/core/event-query";
import { EmptyState } from "@/components/ui/empty-state";
import { Field, Input, Select } from "@/components/ui/field";
import { EventRow } from "@/components/events/event-row";

export type EventsBrowserProps = {
  query: EventQuery;
  initial: SwitchyardEvent[];
  nextBefore: number | null;
  services: { id: string; name: string }[];
  actors: string[];
};

const href = (q: Partial<EventQuery>) => {
  const s = eventQueryParams(q).toString();
  return s ? `/events?${s}` : "/events";
};

const linkClass =
  "inline-flex items-center rounded-md px-3 py-1.5 text-sm font-medium ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 dark:ring-zinc-700 dark:hover:bg-zinc-800";

/**
 * The audit log: filters (a plain GET form, so the URL holds them and can be shared),
 * pages of older events by cursor, and on the first page new events as they happen
 * when they pass the filters.
 */
export function EventsBrowser({ query, initial, nextBefore, services, actors }: EventsBrowserProps) {
  const isFirstPage = !query.before;
  const live = useLiveEvents(initial, (e) => isFirstPage && eventMatches(query, e), initial.length + 500);
  const events = isFirstPage ? live : initial;
  const filters = { kind: query.kind, service: query.service, actor: query.actor, q: query.q, limit: query.limit };
  const knownActors = query.actor && !actors.includes(query.actor) ? [query.actor, ...actors] : actors;
  return (
    <div className="space-y-4">
      <form method="get" action="/events" role="search" aria-label="Filter events" className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-[1fr_1fr_1fr_2fr_auto] lg:items-end">
        <Field label="Kind">
          <Select name="kind" defaultValue={query.kind ?? ""}>
            <option value="">every kind</option>
            {EVENT_KIND_GROUPS.map((g) => (
              <optgroup key={g} label={g}>
                <option value={g}>{g}.* (all)</option>
                {EVENT_KINDS.filter((k) => k.startsWith(`${g}.`)).map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </optgroup>
            ))}
          </Select>
        </Field>
        <Field label="Service">
          <Select name="service" defaultValue={query.service ?? ""}>
            <option value="">every service</option>
            {services.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
            {query.service && !services.some((s) => s.id === query.service) && <option value={query.service}>{query.service} (deleted)</option>}
          </Select>
        </Field>
        <Field label="Actor">
          <Select name="actor" defaultValue={query.actor ?? ""}>
            <option value="">anyone</option>
            {knownActors.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </Select>
        </Field>
        <div className="col-span-2 sm:col-span-3 lg:col-span-1">
          <Field label="Search the messages">
            <Input name="q" type="search" defaultValue={query.q ?? ""} maxLength={EVENT_SEARCH_MAX} placeholder="e.g. drain, 503, alice" />
          </Field>
        </div>
        {query.limit !== 50 && <input type="hidden" name="limit" value={query.limit} />}
        <div className="col-span-2 flex gap-2 sm:col-span-3 lg:col-span-1">
          <button type="submit" className="inline-flex items-center justify-center rounded-md bg-indigo-600 px-3.5 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
            Filter
          </button>
          {hasFilters(query) && (
            <Link href="/events" className={linkClass}>
              Clear
            </Link>
          )}
        </div>
      </form>

      {events.length === 0 ? (
        <EmptyState title={hasFilters(query) ? "No event matches these filters" : "No events yet"}>
          {hasFilters(query) ? "Change or clear the filters." : "Sign-ins, user changes, scaling, rule applies and replica changes appear here as they happen."}
        </EmptyState>
      ) : (
        <ol className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800" data-testid="event-list">
          {events.map((e) => (
            <EventRow key={e.id} e={e} />
          ))}
        </ol>
      )}

      <nav aria-label="Pages of events" className="flex flex-wrap items-center justify-between gap-2 border-t border-zinc-100 pt-3 text-sm dark:border-zinc-800">
        <span className="text-zinc-600 dark:text-zinc-400" data-testid="event-page-note">
          {isFirstPage ? `Newest ${events.length}, live` : `${events.length} events older than #${query.before}`}
        </span>
        <div className="flex gap-2">
          {!isFirstPage && (
            <Link href={href(filters)} className={linkClass}>
              ← Newest
            </Link>
          )}
          {nextBefore !== null && (
            <Link href={href({ ...filters, before: nextBefore })} className={linkClass} rel="next">
              Older →
            </Link>
          )}
        </div>
      </nav>
    </div>
  );
}
