import { idParamSchema } from "@/lib/core/service";
import { nodeAvailabilitySchema } from "@/lib/core/cluster-nodes";
import { body, route } from "@/lib/http";
import { setClusterNodeAvailability } from "@/lib/services/cluster-nodes";

type P = { id: string };

/** Drain a node or make it active again (admins: it moves every task on the node, the panel's and any other's). */
export const POST = route<P>("admin", async ({ req, user, params }) => {
  const { availability } = await body(req, nodeAvailabilitySchema);
  return setClusterNodeAvailability(idParamSchema.parse(params.id), availability, user);
});
