import { z } from "zod";

/** A cluster node as the API shows it (GET /api/cluster/nodes): the cluster's words, and the panel's replicas on it. */
export const clusterNodeViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  state: z.string(),
  availability: z.string(),
  addr: z.string(),
  replicas: z.array(z.object({ id: z.string(), serviceId: z.string(), serviceName: z.string(), state: z.string() })),
});
export type ClusterNodeView = z.infer<typeof clusterNodeViewSchema>;

export const clusterNodesViewSchema = z.object({
  /** which cluster the panel is pointed at ("swarm"), or null when none is configured */
  kind: z.enum(["swarm", "kubernetes"]).nullable(),
  /** why the list is empty: no cluster configured, or the manager did not answer */
  unavailable: z.string().nullable(),
  nodes: z.array(clusterNodeViewSchema),
});
export type ClusterNodesView = z.infer<typeof clusterNodesViewSchema>;

/** POST /api/cluster/nodes/{id}: drain a node (the cluster moves its replicas elsewhere) or make it active again. */
export const nodeAvailabilitySchema = z.object({ availability: z.enum(["active", "drain"]) }).strict();
