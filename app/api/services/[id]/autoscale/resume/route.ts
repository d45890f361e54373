import { idParamSchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { resumeAutoscale } from "@/lib/services/manage-autoscale";

type P = { id: string };

/** Lift the pause a person's slider set (operators). */
export const POST = route<P>("operator", async ({ user, params }) => ({ autoscale: await resumeAutoscale(idParamSchema.parse(params.id), user) }));
