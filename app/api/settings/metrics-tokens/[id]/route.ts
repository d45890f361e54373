import { route } from "@/lib/http";
import { revokeMetricsToken } from "@/lib/services/manage-metrics-tokens";

export const DELETE = route<{ id: string }>("admin", async ({ user, params }) => revokeMetricsToken(params.id, user));
