import { updateUserSchema } from "@/lib/core/users";
import { body, route } from "@/lib/http";
import { deleteUser, updateUser } from "@/lib/services/manage-users";

export const PATCH = route<{ id: string }>("admin", async ({ req, user, params }) => ({
  user: await updateUser(params.id, await body(req, updateUserSchema), user),
}));

export const DELETE = route<{ id: string }>("admin", async ({ user, params }) => deleteUser(params.id, user));
