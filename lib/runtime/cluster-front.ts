import { remember } from "@/lib/remember";

/**
 * Where a cluster service's own balancer answers (Swarm: its HAProxy's published port on the
 * manager node it runs on), as the controller last learned it (lib/controller/cluster-sync.ts).
 * The panel's engine serves such a service with one server, this address
 * (lib/db/balancer-config.ts), so the panel's listener, "Reach it" and the traffic generator
 * reach the tasks through the cluster's balancer, which balances across them.
 * Kept in memory: the first reconcile after a start learns it again (a few seconds).
 */
export type ClusterFront = { host: string; port: number };

/** The panel engine's one server of a Swarm service (a server name: [a-z0-9-]). */
export const FRONT_SERVER_NAME = "swarm-balancer";

export function clusterFronts(): Map<string, ClusterFront> {
  return remember("cluster-fronts", () => new Map<string, ClusterFront>());
}
