import { createServiceSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { createService, listServices } from "@/lib/services/manage-services";
import { serviceViewFor } from "@/lib/services/views";

export const GET = route("viewer", async ({ user }) => ({ services: (await listServices()).map((s) => serviceViewFor(user.role, s)) }));

export const POST = route("operator", async ({ req, user }) => {
  const service = await createService(await body(req, createServiceSchema), user);
  return Response.json({ service }, { status: 201 });
});
