import { idParamSchema, updateServiceSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { deleteService, getService, updateService } from "@/lib/services/manage-services";
import { serviceViewFor } from "@/lib/services/views";

type P = { id: string };

export const GET = route<P>("viewer", async ({ params, user }) => ({ service: serviceViewFor(user.role, await getService(idParamSchema.parse(params.id))) }));

export const PATCH = route<P>("operator", async ({ req, user, params }) => ({
  service: await updateService(idParamSchema.parse(params.id), await body(req, updateServiceSchema), user),
}));

export const DELETE = route<P>("operator", async ({ user, params }) => deleteService(idParamSchema.parse(params.id), user));
