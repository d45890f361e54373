import { z } from "zod";
import { idParamSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { applyRules } from "@/lib/services/apply-rules";
import { getService } from "@/lib/services/manage-services";
import { currentRevisionNumber } from "@/lib/services/apply-balancer-config";

type P = { id: string };

// rules are validated by the strict rules schema inside the use case (one schema for API and forms)
// force: apply even when a route would be shadowed (never reached); refused with route_shadowed otherwise
const putSchema = z.object({ baseRevision: z.number().int().min(0), rules: z.unknown(), force: z.boolean().optional() }).strict();

export const GET = route<P>("viewer", async ({ params }) => {
  const service = await getService(idParamSchema.parse(params.id));
  return { rules: service.rules, revision: await currentRevisionNumber() };
});

export const PUT = route<P>("operator", async ({ req, user, params }) => {
  const input = await body(req, putSchema);
  return applyRules(idParamSchema.parse(params.id), { baseRevision: input.baseRevision, rules: input.rules as never, force: input.force }, user);
});
