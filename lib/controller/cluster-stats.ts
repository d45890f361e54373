import { serverNameFor, type ServerStats } from "@/lib/engines/types";
import { parseShowStat } from "@/lib/engines/haproxy/runtime-api";
import { serverStatsOf } from "@/lib/engines/haproxy/stats";
import { BACKEND_PREFIX } from "@/lib/engines/haproxy/render";
import { info } from "@/lib/mgmt/client";
import type { ReplicaStats } from "@/lib/runtime/types";

/**
 * The live figures of a Swarm service's replicas, for the collector:
 * - traffic per task: the Swarm balancer's own per-server counters (HAProxy's CSV stats on its
 *   management listener, /balancer-stats;csv), each server matched to a replica row by its
 *   address on the overlay (the `addr` column) and renamed as the panel's engine names it, so the
 *   charts read them like any other server's;
 * - memory per task: the replica's own /admin/info (its RSS and limit) through the same listener.
 *   CPU is not known this way: it is NaN (the collector shows none), never a made-up 0.
 */

type Row = { id: string; dataAddr: string | null; adminAddr: string | null };
const STATS_LIMIT = 512 * 1024;

async function fetchCsv(relay: string, timeoutMs: number): Promise<string | null> {
  try {
    const res = await fetch(`http://${relay}/balancer-stats;csv`, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    if (res.status !== 200) return null;
    const text = await res.text();
    return text.length > STATS_LIMIT ? null : text;
  } catch {
    return null;
  }
}

export async function swarmServiceFigures(svc: { name: string; adminToken: string; replicaProtocol: boolean; instances: Row[] }, timeoutMs = 900): Promise<{ servers: ServerStats[]; runtime: Map<string, ReplicaStats> }> {
  const relay = svc.instances.find((r) => r.adminAddr)?.adminAddr;
  const runtime = new Map<string, ReplicaStats>();
  if (!relay) return { servers: [], runtime };
  const byAddr = new Map(svc.instances.filter((r) => r.dataAddr).map((r) => [r.dataAddr!, r.id]));
  const [csv] = await Promise.all([
    fetchCsv(relay, timeoutMs),
    svc.replicaProtocol
      ? Promise.all(
          svc.instances.map(async (r) => {
            if (!r.dataAddr || !r.adminAddr) return;
            const task = r.dataAddr.slice(0, r.dataAddr.lastIndexOf(":"));
            const i = await info({ adminAddr: r.adminAddr, token: svc.adminToken, task, timeoutMs }).catch(() => null);
            if (i) runtime.set(r.id, { memoryBytes: i.memory.rssMb * 1048576, memoryLimitBytes: i.memory.limitMb * 1048576, memoryLimitEnforced: i.memory.limitSource === "cgroup", cpuPercent: Number.NaN, at: Date.now() });
          }),
        )
      : Promise.resolve(),
  ]);
  if (!csv) return { servers: [], runtime };
  const rows = parseShowStat(csv)
    .filter((row) => row.pxname === "app" && row.svname !== "BACKEND" && row.svname !== "FRONTEND" && row.addr && byAddr.has(row.addr))
    .map((row) => ({ ...row, pxname: `${BACKEND_PREFIX}${svc.name}`, svname: serverNameFor(byAddr.get(row.addr)!) }));
  return { servers: serverStatsOf(rows), runtime };
}
