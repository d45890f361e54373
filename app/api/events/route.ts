import { z } from "zod";
import { route } from "@/lib/http";
import { listEvents } from "@/lib/services/list-events";
import { eventsFor } from "@/lib/services/views";

const query = z.object({
  serviceId: z.string().regex(/^[a-z0-9]{1,40}$/).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  before: z.coerce.number().int().min(1).optional(),
});

export const GET = route("viewer", async ({ req, user }) => {
  const q = query.parse(Object.fromEntries(new URL(req.url).searchParams));
  return { events: await eventsFor(user.role, await listEvents(q)) };
});
