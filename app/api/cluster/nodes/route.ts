import { route } from "@/lib/http";
import { listClusterNodes } from "@/lib/services/cluster-nodes";

/** The cluster's nodes (Swarm), with the panel's replicas on each. */
export const GET = route("viewer", async () => listClusterNodes());
