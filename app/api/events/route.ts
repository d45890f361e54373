import { route } from "@/lib/http";
import { parseEventQuery } from "@/lib/core/event-query";
import { queryEvents } from "@/lib/services/list-events";

/** GET /api/events?kind=&service=&actor=&q=&before=&limit= : one page of the audit log (bad parameters: 400). */
export const GET = route("viewer", async ({ req, user }) => queryEvents(user.role, parseEventQuery(new URL(req.url).searchParams)));
