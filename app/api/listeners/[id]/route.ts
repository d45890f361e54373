import { listenerIdParamSchema, updateListenerSchema } from "@/lib/core/listeners";
import { body, route } from "@/lib/http";
import { deleteListener, updateListener } from "@/lib/services/manage-listeners";

export const PATCH = route<{ id: string }>("operator", async ({ req, user, params }) => updateListener(listenerIdParamSchema.parse(params.id), await body(req, updateListenerSchema), user));

export const DELETE = route<{ id: string }>("operator", async ({ user, params }) => deleteListener(listenerIdParamSchema.parse(params.id), user));
