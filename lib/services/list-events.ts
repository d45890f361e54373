import { db } from "@/lib/db/client";
import { toEvent, type SwitchyardEvent } from "@/lib/events";

export async function listEvents(opts: { serviceId?: string; limit?: number; before?: number } = {}): Promise<SwitchyardEvent[]> {
  const rows = await db().event.findMany({
    where: { ...(opts.serviceId ? { serviceId: opts.serviceId } : {}), ...(opts.before ? { id: { lt: opts.before } } : {}) },
    orderBy: { id: "desc" },
    take: Math.min(opts.limit ?? 200, 1000),
  });
  return rows.map(toEvent);
}
