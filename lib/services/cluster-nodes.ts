import { AppError } from "@/lib/core/errors";
import type { ClusterNodesView } from "@/lib/core/cluster-nodes";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { recordEvent } from "@/lib/events";
import { clusterFor } from "@/lib/runtime/registry";
import { controller } from "@/lib/controller/controller";
import type { SessionUser } from "@/lib/auth/sessions";

type Actor = Pick<SessionUser, "username" | "role">;

/** The Swarm's nodes with the panel's replicas on each (from the tasks the manager reports). */
export async function listClusterNodes(): Promise<ClusterNodesView> {
  if (!env().SWARM_MANAGER) return { kind: null, unavailable: "no cluster: SWARM_MANAGER is not set", nodes: [] };
  const cluster = clusterFor("swarm");
  const available = await cluster.available();
  if (!available.ok) return { kind: "swarm", unavailable: available.reason, nodes: [] };
  const nodes = (await cluster.nodes?.()) ?? [];
  const services = await db().service.findMany({ where: { runtime: "swarm" }, select: { id: true, name: true, instances: { select: { id: true, state: true } } } });
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
  return { kind: "swarm", unavailable: null, nodes: nodes.map((n) => ({ ...n, replicas: onNode.get(n.name) ?? [] })) };
}

/** Drain a node (Swarm moves its tasks elsewhere; the rows follow) or make it active again. */
export async function setClusterNodeAvailability(nodeId: string, availability: "active" | "drain", actor: Actor): Promise<ClusterNodesView> {
  if (!env().SWARM_MANAGER) throw new AppError("unavailable", "no cluster: SWARM_MANAGER is not set");
  const cluster = clusterFor("swarm");
  const node = (await cluster.nodes?.())?.find((n) => n.id === nodeId);
  if (!node || !cluster.setNodeAvailability) throw new AppError("not_found", `no node ${nodeId} in the swarm`);
  const r = await cluster.setNodeAvailability(nodeId, availability);
  await recordEvent({ kind: "node.availability", actor: actor.username, message: `${actor.username} set node ${node.name} to ${availability}${r.attempts > 1 ? ` (${r.attempts} attempts)` : ""}`, data: { node: node.name, availability } });
  // the rows follow the moved tasks at the next reconcile: ask for it now
  for (const s of await db().service.findMany({ where: { runtime: "swarm" }, select: { id: true } })) controller().kick(s.id);
  return listClusterNodes();
}
