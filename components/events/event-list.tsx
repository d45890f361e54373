"use client";

import type { SwitchyardEvent } from "@/lib/events";
import { useLiveEvents } from "@/lib/client/live";
import { Badge } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/empty-state";

function time(iso: string) {
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour12: false }) + (Date.now() - d.getTime() > 86_400_000 ? ` ${d.toLocaleDateString()}` : "");
}

export function EventList({ initial, serviceId, compact = false }: { initial: SwitchyardEvent[]; serviceId?: string; compact?: boolean }) {
  const events = useLiveEvents(initial, serviceId ? (e) => e.serviceId === serviceId : undefined);
  if (events.length === 0) return <EmptyState title="No events yet">Sign-ins, user changes, scaling, rule applies and replica changes appear here as they happen.</EmptyState>;
  return (
    <ol className={`divide-y divide-zinc-100 text-sm dark:divide-zinc-800 ${compact ? "max-h-80 overflow-y-auto" : ""}`} data-testid="event-list">
      {events.map((e) => (
        // on a phone the message takes a line of its own under time, kind and actor, so it wraps as text, not one word per line
        <li key={e.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-0.5 py-1.5 sm:flex-nowrap">
          <span className="w-16 shrink-0 font-mono text-xs text-zinc-500">{time(e.at)}</span>
          <Badge tone={e.level === "error" ? "red" : e.level === "warn" ? "amber" : "zinc"}>{e.kind}</Badge>
          <span className="order-last min-w-0 basis-full break-words sm:order-none sm:flex-1 sm:basis-auto">{e.message}</span>
          <span className="ml-auto min-w-0 truncate text-xs text-zinc-500 sm:ml-0 sm:shrink-0">{e.actor}</span>
        </li>
      ))}
    </ol>
  );
}
