import { autoscaleSettingsSchema } from "@/lib/core/autoscale";
import { idParamSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { getAutoscale, saveAutoscale } from "@/lib/services/manage-autoscale";

type P = { id: string };

/** A service's autoscaler (issue 16): GET for every role, PUT the whole settings (operators). */
export const GET = route<P>("viewer", async ({ params }) => ({ autoscale: await getAutoscale(idParamSchema.parse(params.id)) }));

export const PUT = route<P>("operator", async ({ req, user, params }) => ({
  autoscale: await saveAutoscale(idParamSchema.parse(params.id), await body(req, autoscaleSettingsSchema), user),
}));
