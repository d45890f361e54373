import { route } from "@/lib/http";
import { balancerOverview } from "@/lib/services/balancer-overview";
import { balancerOverviewFor } from "@/lib/services/views";

export const GET = route("viewer", async ({ user }) => balancerOverviewFor(user.role, await balancerOverview()));
