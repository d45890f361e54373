import { createListenerSchema } from "@/lib/core/listeners";
import { body, route } from "@/lib/http";
import { createListener, listListeners } from "@/lib/services/manage-listeners";

export const GET = route("viewer", async () => ({ listeners: await listListeners() }));

export const POST = route("operator", async ({ req, user }) => Response.json(await createListener(await body(req, createListenerSchema), user), { status: 201 }));
