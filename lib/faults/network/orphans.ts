/**
 * Network faults without a record: a panel that died between starting a fault proxy
 * (and switching the balancer to it) and recording the fault leaves a replica whose
 * server points at a proxy nobody will undo. At start the fault store hands every such
 * replica to releaseOrphan (one replica at a time with its other fault work), which
 * switches it back and stops the proxy.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { liveProxyPid, proxyFiles, stopProxyProcess } from "@/lib/faults/network/process";
import { pointBalancerAt } from "@/lib/faults/network/switch";

/** Replicas that have a fault address or a fault proxy pid file, but no active network fault. */
export async function orphanCandidates(): Promise<string[]> {
  const switched = await db().replica.findMany({ where: { faultAddr: { not: null } }, select: { id: true } });
  const files = await readdir(path.join(env().dataDir, "faults", "network")).catch(() => [] as string[]);
  const withProxy = files.filter((f) => f.endsWith(".pid")).map((f) => f.slice(0, -4));
  const ids = [...new Set([...switched.map((r) => r.id), ...withProxy])];
  const active = await db().fault.findMany({ where: { kind: "network-fault", endedAt: null, replicaId: { in: ids } }, select: { replicaId: true } });
  const held = new Set(active.map((f) => f.replicaId));
  return ids.filter((id) => !held.has(id));
}

/** Switch `replicaId` back and stop its proxy, unless an active network fault holds it (checked again here). Returns whether it released anything. */
export async function releaseOrphan(replicaId: string): Promise<boolean> {
  const active = await db().fault.count({ where: { kind: "network-fault", endedAt: null, replicaId } });
  if (active > 0) return false;
  const files = proxyFiles(replicaId);
  const pid = await liveProxyPid(files);
  const row = await db().replica.findUnique({ where: { id: replicaId }, select: { faultAddr: true } });
  if (pid === null && !row?.faultAddr) {
    await stopProxyProcess(files, undefined, null); // a stale pid file
    return false;
  }
  if (row?.faultAddr) await pointBalancerAt(replicaId, null);
  if (pid !== null) await stopProxyProcess(files, undefined, pid);
  return true;
}
