import { z } from "zod";
import { updateListenerSchema } from "@/lib/core/listeners";
import { body, route } from "@/lib/http";
import { deleteListener, updateListener } from "@/lib/services/manage-listeners";

const idSchema = z.string().min(1).max(64).regex(/^[a-z0-9-]+$/, "a listener id or name");

export const PATCH = route<{ id: string }>("operator", async ({ req, user, params }) => updateListener(idSchema.parse(params.id), await body(req, updateListenerSchema), user));

export const DELETE = route<{ id: string }>("operator", async ({ user, params }) => deleteListener(idSchema.parse(params.id), user));
