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
        <li key={e.id} className="flex items-baseline gap-3 py-1.5">
          <span className="w-16 shrink-0 font-mono text-xs text-zinc-500">{time(e.at)}</span>
          <Badge tone={e.level === "error" ? "red" : e.level === "warn" ? "amber" : "zinc"}>{e.kind}</Badge>
          <span className="min-w-0 flex-1 break-words">{e.message}</span>
          <span className="shrink-0 text-xs text-zinc-500">{e.actor}</span>
        </li>
      ))}
    </ol>
  );
}
