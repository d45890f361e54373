import { AppError } from "@/lib/core/errors";
import type { ServiceAction } from "@/lib/core/service";
import { actionsOf } from "@/lib/db/rows";
import { sendDirect, type DirectAnswer } from "@/lib/mgmt/direct-request";

/**
 * `{"action": "custom", "name"}`: one of the service's own actions (issue 14), sent to
 * this replica's own data or admin address, never through the balancer. The caller
 * (runReplicaAction) has checked the role and records the event.
 */
export async function runCustomAction(
  replica: { id: string; dataAddr: string | null; adminAddr: string | null; runtime?: string },
  service: { name: string; actions: string; adminToken: string },
  name: string,
): Promise<{ action: ServiceAction; answer: DirectAnswer }> {
  const action = actionsOf(service).find((a) => a.name === name);
  if (!action) throw new AppError("not_found", `service ${service.name} has no action named "${name}"`);
  const addr = action.port === "admin" ? replica.adminAddr : replica.dataAddr;
  if (!addr) throw new AppError("conflict", `replica ${replica.id} has no ${action.port} address yet (still starting)`);
  const task = swarmTaskOf(replica);
  // a Swarm task's data port is on the overlay, which only its balancer reaches; its management listener forwards to the admin port only
  if (task && action.port !== "admin") throw new AppError("conflict", `replica ${replica.id} is a Swarm task: the panel reaches its admin port (through the balancer's management listener), not its data port; declare the action on the admin port`);
  // the admin port gets the service's token (the replica protocol's admin endpoints want it); the data port never does
  return { action, answer: await sendDirect(addr, action, action.port === "admin" ? { token: service.adminToken, ...(task ? { task } : {}) } : {}) };
}

/** The overlay address of a Swarm task (its data address' host), which its balancer's management listener forwards to; else undefined. */
export function swarmTaskOf(replica: { runtime?: string; dataAddr: string | null }): string | undefined {
  if (replica.runtime !== "swarm" || !replica.dataAddr) return undefined;
  return replica.dataAddr.slice(0, replica.dataAddr.lastIndexOf(":"));
}
