import { idParamSchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { getService } from "@/lib/services/manage-services";
import { serviceViewFor } from "@/lib/services/views";

export const GET = route<{ id: string }>("viewer", async ({ params, user }) => ({ replicas: serviceViewFor(user.role, await getService(idParamSchema.parse(params.id))).instances }));
