import { idParamSchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { getRollout } from "@/lib/services/manage-rollouts";

type P = { id: string; rolloutId: string };

/** One rollout with its steps, split and last gate figures (every role). */
export const GET = route<P>("viewer", async ({ user, params }) => ({ rollout: await getRollout(idParamSchema.parse(params.id), idParamSchema.parse(params.rolloutId), user.role) }));
