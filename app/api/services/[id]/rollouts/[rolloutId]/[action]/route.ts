import { rolloutActionSchema } from "@/lib/core/rollout";
import { idParamSchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { actOnRollout } from "@/lib/services/manage-rollouts";

type P = { id: string; rolloutId: string; action: string };

/** Promote, pause, resume or abort a rollout by hand (operators and admins; audited). */
export const POST = route<P>("operator", async ({ user, params }) => ({
  rollout: await actOnRollout(idParamSchema.parse(params.id), idParamSchema.parse(params.rolloutId), rolloutActionSchema.parse(params.action), user),
}));
