import { route } from "@/lib/http";
import { balancerOverview } from "@/lib/services/balancer-overview";

export const GET = route("viewer", async () => balancerOverview());
