import { PageHeader } from "@/components/ui/page-header";
import { Card } from "@/components/ui/card";
import { EventList } from "@/components/events/event-list";
import { ConnectionBadge } from "@/components/shell/connection-badge";
import { listEvents } from "@/lib/services/list-events";

export const metadata = { title: "Events" };

export default async function EventsPage() {
  const events = await listEvents({ limit: 300 });
  return (
    <>
      <PageHeader title="Events" description="Everything that changed, who or what changed it, as it happens. This is also the audit log." actions={<ConnectionBadge />} />
      <Card>
        <EventList initial={events} />
      </Card>
    </>
  );
}
