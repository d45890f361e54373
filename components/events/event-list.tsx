"use client";

import type { SwitchyardEvent } from "@/lib/events";
import { useLiveEvents } from "@/lib/client/live";
import { EmptyState } from "@/components/ui/empty-state";
import { EventRow } from "@/components/events/event-row";

/** A service's recent events, live (the service page). The Events page has filters and pages: events-browser.tsx. */
export function EventList({ initial, serviceId, compact = false }: { initial: SwitchyardEvent[]; serviceId?: string; compact?: boolean }) {
  const events = useLiveEvents(initial, serviceId ? (e) => e.serviceId === serviceId : undefined);
  if (events.length === 0) return <EmptyState title="No events yet">Sign-ins, user changes, scaling, rule applies and replica changes appear here as they happen.</EmptyState>;
  return (
    <ol className={`divide-y divide-zinc-100 text-sm dark:divide-zinc-800 ${compact ? "max-h-80 overflow-y-auto" : ""}`} data-testid="event-list">
      {events.map((e) => (
        <EventRow key={e.id} e={e} />
      ))}
    </ol>
  );
}
