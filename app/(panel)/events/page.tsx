import { PageHeader } from "@/components/ui/page-header";
import { Card } from "@/components/ui/card";
import { EventList } from "@/components/events/event-list";
import { ConnectionBadge } from "@/components/shell/connection-badge";
import { requireUser } from "@/lib/auth/page";
import { listEvents } from "@/lib/services/list-events";
import { eventsFor } from "@/lib/services/views";

export const metadata = { title: "Events" };

export default async function EventsPage() {
  const user = await requireUser();
  const events = await eventsFor(user.role, await listEvents({ limit: 300 }));
  return (
    <>
      <PageHeader title="Events" description="Everything that changed, who or what changed it, as it happens. This is also the audit log." actions={<ConnectionBadge />} />
      <Card>
        <EventList initial={events} />
      </Card>
    </>
  );
}
