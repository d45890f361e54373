import { PageHeader } from "@/components/ui/page-header";
import { Card } from "@/components/ui/card";
import { Alert } from "@/components/ui/alert";
import { EventsBrowser } from "@/components/events/events-browser";
import { ConnectionBadge } from "@/components/shell/connection-badge";
import { requireUser } from "@/lib/auth/page";
import { isAppError } from "@/lib/core/errors";
import { eventQueryParams, parseEventQuery, type EventQuery } from "@/lib/core/event-query";
import { eventActors, queryEvents } from "@/lib/services/list-events";
import { listServices } from "@/lib/services/manage-services";

export const metadata = { title: "Events" };

type Search = Record<string, string | string[] | undefined>;

function paramsOf(search: Search): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(search)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) p.append(k, one);
  return p;
}

export default async function EventsPage({ searchParams }: { searchParams: Promise<Search> }) {
  const user = await requireUser();
  let query: EventQuery;
  let problem: string | null = null;
  try {
    query = parseEventQuery(paramsOf(await searchParams));
  } catch (e) {
    if (!isAppError(e)) throw e;
    problem = e.message;
    query = parseEventQuery(new URLSearchParams());
  }
  const [page, services, actors] = await Promise.all([queryEvents(user.role, query), listServices(), eventActors()]);
  return (
    <>
      <PageHeader title="Events" description="Everything that changed, who or what changed it, as it happens. This is also the audit log." actions={<ConnectionBadge />} />
      {problem && (
        <div className="mb-4">
          <Alert>These filters cannot be used ({problem}); showing the newest events instead.</Alert>
        </div>
      )}
      <Card>
        <EventsBrowser
          key={eventQueryParams(query).toString()}
          query={query}
          initial={page.events}
          nextBefore={page.nextBefore}
          services={services.map((s) => ({ id: s.id, name: s.name }))}
          actors={actors}
        />
      </Card>
    </>
  );
}
