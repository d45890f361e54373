import { rolloutRequestSchema } from "@/lib/core/rollout";
import { idParamSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { listRollouts, startRollout } from "@/lib/services/manage-rollouts";

type P = { id: string };

/** A service's rollouts (issue 16, part 2): GET for every role, POST starts one (operators). */
export const GET = route<P>("viewer", async ({ user, params }) => ({ rollouts: await listRollouts(idParamSchema.parse(params.id), user.role) }));

export const POST = route<P>("operator", async ({ req, user, params }) => ({
  rollout: await startRollout(idParamSchema.parse(params.id), await body(req, rolloutRequestSchema), user),
}));
