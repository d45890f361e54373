import { idParamSchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { getService } from "@/lib/services/manage-services";

export const GET = route<{ id: string }>("viewer", async ({ params }) => ({ replicas: (await getService(idParamSchema.parse(params.id))).instances }));
