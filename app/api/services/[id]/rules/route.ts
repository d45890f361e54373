import { rulesApplyRequestSchema } from "@/lib/core/balancer-views";
import { idParamSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { applyRules } from "@/lib/services/apply-rules";
import { getService } from "@/lib/services/manage-services";
import { currentRevisionNumber } from "@/lib/services/apply-balancer-config";

type P = { id: string };

export const GET = route<P>("viewer", async ({ params }) => {
  const service = await getService(idParamSchema.parse(params.id));
  return { rules: service.rules, revision: await currentRevisionNumber() };
});

export const PUT = route<P>("operator", async ({ req, user, params }) => {
  const input = await body(req, rulesApplyRequestSchema);
  return applyRules(idParamSchema.parse(params.id), { baseRevision: input.baseRevision, rules: input.rules as never, force: input.force }, user);
});
