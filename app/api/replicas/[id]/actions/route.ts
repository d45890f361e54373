import { replicaActionSchema } from "@/lib/core/mgmt";
import { idParamSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { runReplicaAction } from "@/lib/services/replica-action";

export const POST = route<{ id: string }>("operator", async ({ req, user, params }) =>
  runReplicaAction(idParamSchema.parse(params.id), await body(req, replicaActionSchema), user),
);
