import { idParamSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { startTraffic, stopTraffic, trafficSettingsSchema, trafficStatus } from "@/lib/services/traffic";

type P = { id: string };

export const GET = route<P>("viewer", async ({ params }) => ({ traffic: trafficStatus(idParamSchema.parse(params.id)) }));

export const POST = route<P>("operator", async ({ req, user, params }) => ({
  traffic: await startTraffic(idParamSchema.parse(params.id), await body(req, trafficSettingsSchema), user.username),
}));

export const DELETE = route<P>("operator", async ({ user, params }) => ({ traffic: stopTraffic(idParamSchema.parse(params.id), user.username) }));
