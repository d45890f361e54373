/**
 * The switch of a network fault: the replica's `faultAddr` (what every later apply renders,
 * lib/db/balancer-config.ts toServer) and the engine's server address at run time
 * (Engine.setServerAddress: HAProxy's runtime API, the builtin proxy's control socket,
 * an nginx reload). Only the balancer's path changes; the panel's direct path keeps
 * using dataAddr and adminAddr.
 */
import { controller } from "@/lib/controller/controller";
import { balancerServiceOf } from "@/lib/db/balancer-config";
import { db } from "@/lib/db/client";
import { serverNameFor } from "@/lib/engines/types";

/**
 * Points the balancer's server for `replicaId` at `faultAddr` (host:port of its fault
 * proxy), or back at the replica's own data address (null). Idempotent. `unlessOwnedBy`:
 * when switching back, leave a faultAddr that is not this fault's alone (another fault
 * set it since). Takes the engine lock itself (never call it holding that lock). A
 * replica that is gone, or an engine that is not ready, gets only the database change:
 * the engine's next start or apply renders from it.
 */
export async function pointBalancerAt(replicaId: string, faultAddr: string | null, unlessOwnedBy?: string): Promise<void> {
  const ctl = controller();
  await ctl.engineLock.run(async () => {
    const row = await db().replica.findUnique({ where: { id: replicaId }, select: { serviceId: true, faultAddr: true, inEngine: true } });
    if (!row) return;
    if (faultAddr === null && unlessOwnedBy !== undefined && row.faultAddr !== null && row.faultAddr !== unlessOwnedBy) return;
    if (row.faultAddr !== faultAddr) await db().replica.update({ where: { id: replicaId }, data: { faultAddr } });
    if (!row.inEngine || !ctl.engineState().ready) return;
    const service = await balancerServiceOf(row.serviceId);
    const server = service?.servers.find((s) => s.name === serverNameFor(replicaId));
    if (service && server) await ctl.engine.setServerAddress(service, server.name, server.host, server.port);
  });
}

/** Ports of the fault proxies replicas are switched to now (another fault must not take them). */
export async function proxyPortsInUse(): Promise<number[]> {
  const rows = await db().replica.findMany({ where: { faultAddr: { not: null } }, select: { faultAddr: true } });
  return rows.map((r) => Number(r.faultAddr!.slice(r.faultAddr!.lastIndexOf(":") + 1)));
}
