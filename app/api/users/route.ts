import { createUserSchema } from "@/lib/core/users";
import { body, route } from "@/lib/http";
import { createUser, listUsers } from "@/lib/services/manage-users";

export const GET = route("admin", async () => ({ users: await listUsers() }));

export const POST = route("admin", async ({ req, user }) => {
  const created = await createUser(await body(req, createUserSchema), user);
  return Response.json({ user: created }, { status: 201 });
});
