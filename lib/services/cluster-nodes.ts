import { AppError } from "@/lib/core/errors";
import type { ClusterNodesView } from "@/lib/core/cluster-nodes";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { recordEvent } from "@/lib/events";
import { clusterFor } from "@/lib/runtime/registry";
import { controller } from "@/lib/controller/controller";
import type { SessionUser } from "@/lib/auth/sessions";

type Actor = Pick<SessionUser, "username" | "role">;

/** The cluster the nodes card shows: the Swarm when SWARM_MANAGER is set, else Kubernetes when KUBERNETES_API is. */
function nodesCluster(): "swarm" | "kubernetes" | null {
  return env().SWARM_MANAGER ? "swarm" : env().KUBERNETES_API ? "kubernetes" : null;
}

/** The cluster's nodes with the panel's replicas on each (from the members the cluster reports: Swarm tasks, pods). */
export async function listClusterNodes(): Promise<ClusterNodesView> {
  const kind = nodesCluster();
  if (!kind) return { kind: null, unavailable: "no cluster: neither SWARM_MANAGER nor KUBERNETES_API is set", nodes: [] };
  const cluster = clusterFor(kind);
  const available = await cluster.available();
  if (!available.ok) return { kind, unavailable: available.reason, nodes: [] };
  const nodes = (await cluster.nodes?.()) ?? [];
  const services = await db().service.findMany({ where: { runtime: kind }, select: { id: true, name: true, instances: { select: { id: true, state: true } } } });
  const onNode = new Map<string, ClusterNodesView["nodes"][number]["replicas"]>();
  for (const svc of services) {
    for (const m of await cluster.members(svc.id)) {
      if (!m.node || m.state === "failed") continue;
      const row = svc.instances.find((r) => r.id === m.id);
      const list = onNode.get(m.node) ?? [];
      list.push({ id: m.id, serviceId: svc.id, serviceName: svc.name, state: row?.state ?? m.state });
      onNode.set(m.node, list);
    }
  }
  return { kind, unavailable: null, nodes: nodes.map((n) => ({ ...n, replicas: onNode.get(n.name) ?? [] })) };
}

/**
 * Drain a node or make it active again. Swarm moves its tasks elsewhere; Kubernetes cordons it
 * and evicts the panel's pods on it through the Eviction API (active: uncordoned). The rows follow.
 */
export async function setClusterNodeAvailability(nodeId: string, availability: "active" | "drain", actor: Actor): Promise<ClusterNodesView> {
  const kind = nodesCluster();
  if (!kind) throw new AppError("unavailable", "no cluster: neither SWARM_MANAGER nor KUBERNETES_API is set");
  const cluster = clusterFor(kind);
  const node = (await cluster.nodes?.())?.find((n) => n.id === nodeId);
  if (!node || !cluster.setNodeAvailability) throw new AppError("not_found", `no node ${nodeId} in the ${kind === "swarm" ? "swarm" : "cluster"}`);
  const r = await cluster.setNodeAvailability(nodeId, availability);
  const how = kind === "kubernetes" ? (availability === "drain" ? " (cordoned, its pods evicted)" : " (uncordoned)") : "";
  await recordEvent({ kind: "node.availability", actor: actor.username, message: `${actor.username} set node ${node.name} to ${availability}${how}${r.attempts > 1 ? ` (${r.attempts} attempts)` : ""}`, data: { node: node.name, availability } });
  // the rows follow the moved members at the next reconcile: ask for it now
  for (const s of await db().service.findMany({ where: { runtime: kind }, select: { id: true } })) controller().kick(s.id);
  return listClusterNodes();
}
