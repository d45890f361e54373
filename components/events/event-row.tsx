import type { SwitchyardEvent } from "@/lib/events";
import { Badge } from "@/components/ui/badge";
import { EventTime } from "@/components/events/event-time";

/** One event: date and time, kind, actor, and the message (on a phone, on a line of its own, wrapping as text). */
export function EventRow({ e }: { e: SwitchyardEvent }) {
  return (
    <li className="flex flex-wrap items-baseline gap-x-3 gap-y-0.5 py-1.5 sm:flex-nowrap" data-event-id={e.id} data-kind={e.kind}>
      <EventTime iso={e.at} />
      <Badge tone={e.level === "error" ? "red" : e.level === "warn" ? "amber" : "zinc"}>{e.kind}</Badge>
      <span className="order-last min-w-0 basis-full break-words sm:order-none sm:flex-1 sm:basis-auto">{e.message}</span>
      <span className="ml-auto min-w-0 truncate text-xs text-zinc-600 sm:ml-0 sm:max-w-40 sm:shrink-0 dark:text-zinc-400" data-testid="event-actor">
        {e.actor}
      </span>
    </li>
  );
}
