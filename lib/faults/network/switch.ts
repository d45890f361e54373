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
import { env } from "@/lib/env";
import { serverNameFor } from "@/lib/engines/types";
import { sleep } from "@/lib/process/sleep";

/** How long a switch waits for the engine to be started or adopted before it changes only the database. */
const ENGINE_WAIT_MS = 20_000;

/**
 * Points the balancer's server for `replicaId` at `faultAddr` (host:port of its fault
 * proxy), or back at the replica's own data address (null). Idempotent. `unlessOwnedBy`:
 * when switching back, leave a faultAddr that is not this fault's alone (another fault
 * set it since). Takes the engine lock itself (never call it holding that lock). A
 * replica that is gone, or an engine still not ready after ENGINE_WAIT_MS (stopped, or
 * the controller is off), gets only the database change: the engine's next start or
 * apply renders from it.
 */
export async function pointBalancerAt(replicaId: string, faultAddr: string | null, unlessOwnedBy?: string): Promise<void> {
  const ctl = controller();
  // At the panel's start a resume or undo may come before the engine is started or adopted.
  // An adopted engine keeps the addresses it had (it is re-applied only when its server names
  // differ), so wait for it a while rather than change only the database.
  const deadline = Date.now() + (env().CONTROLLER ? ENGINE_WAIT_MS : 0);
  while (!ctl.engineState().ready && Date.now() < deadline) await sleep(200);
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
