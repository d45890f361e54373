/**
 * The `network-fault` kind (issue 14, item 2): latency, an error share, connection
 * resets or a black hole on the balancer → replica path, by a per-replica fault proxy
 * (proxy.ts, in its own process: process.ts) that the engine's server address points at
 * only while the fault is active (switch.ts). Off, nothing is in the data path.
 *
 * apply: start the proxy, then switch. undo: switch back first, then stop the proxy
 * (idempotent). resume: adopt the live proxy (or start one again on the recorded port,
 * also when the replica's data address changed) and switch again; null when it cannot.
 */
import { AppError } from "@/lib/core/errors";
import { env } from "@/lib/env";
import type { FaultKind, FaultRecord, FaultTarget } from "@/lib/faults/types";
import type { NetworkFaultParams } from "@/lib/faults/network/params";
import type { FaultEffects } from "@/lib/faults/network/proxy";
import { PROXY_HOST, liveProxyPid, proxyFiles, startProxyProcess, stopProxyProcess } from "@/lib/faults/network/process";
import { pointBalancerAt, proxyPortsInUse } from "@/lib/faults/network/switch";
import { isPortFree, portCandidates } from "@/lib/runtime/ports";
import { sleep } from "@/lib/process/sleep";

/** What a network fault changed, as its record keeps it. */
export type NetworkFaultState = {
  /** the fault proxy: 127.0.0.1:port, and its pid when it was started or adopted */
  proxy: { host: string; port: number; pid: number | null };
  /** the replica's data address the proxy forwards to (host:port) */
  target: string;
};

export function effectsOf(p: NetworkFaultParams): FaultEffects {
  return { latencyMs: p.latencyMs ?? 0, errorRate: p.errorRate ?? 0, reset: p.reset === true, blackhole: p.blackhole === true };
}

const addrOf = (a: { host: string; port: number }) => `${a.host}:${a.port}`;

/** Ports being started right now in this process (two applies at once never take the same one). */
const starting = new Set<number>();

const PREFERRED_WAIT_MS = 3000;

async function waitUntilFree(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await isPortFree(port, PROXY_HOST)) && Date.now() < deadline) await sleep(100);
}

/** Start the proxy on `preferred` when it is free, else on the first free port of FAULT_PROXY_PORTS. */
async function startOnFreePort(replicaId: string, target: { host: string; port: number }, effects: FaultEffects, preferred?: number): Promise<NetworkFaultState> {
  const range = env().FAULT_PROXY_PORTS;
  // a proxy that just died may leave its port held for a moment (connections closing): give it a little time
  if (preferred !== undefined) await waitUntilFree(preferred, PREFERRED_WAIT_MS);
  const used = [...(await proxyPortsInUse()), ...starting];
  const candidates = portCandidates(range, used.filter((p) => p !== preferred));
  if (preferred !== undefined && candidates.includes(preferred)) candidates.unshift(preferred);
  for (const port of candidates) {
    if (starting.has(port) || !(await isPortFree(port, PROXY_HOST))) continue;
    starting.add(port);
    try {
      const pid = await startProxyProcess({ files: proxyFiles(replicaId), port, target, effects });
      return { proxy: { host: PROXY_HOST, port, pid }, target: addrOf(target) };
    } finally {
      starting.delete(port);
    }
  }
  throw new AppError("runtime_error", `no free fault proxy port left in FAULT_PROXY_PORTS ${range.from}-${range.to}; widen it or clear a network fault`);
}

async function switchOrStop(replicaId: string, state: NetworkFaultState): Promise<NetworkFaultState> {
  try {
    await pointBalancerAt(replicaId, addrOf(state.proxy));
    return state;
  } catch (e) {
    await pointBalancerAt(replicaId, null, addrOf(state.proxy)).catch(() => undefined);
    await stopProxyProcess(proxyFiles(replicaId), state.proxy.port, state.proxy.pid);
    throw e;
  }
}

export const networkFaultKind: FaultKind<NetworkFaultParams, NetworkFaultState> = {
  name: "network-fault",

  async apply(target: FaultTarget, params: NetworkFaultParams): Promise<NetworkFaultState> {
    if (!target.dataAddr) throw new AppError("conflict", `replica ${target.replicaId} has no data address yet (still starting)`);
    const files = proxyFiles(target.replicaId);
    // the store undoes a recorded network fault of this replica before it applies another, so a
    // proxy still running here has no record (a panel died before recording it): it goes
    const stale = await liveProxyPid(files);
    if (stale !== null) await stopProxyProcess(files, undefined, stale);
    const state = await startOnFreePort(target.replicaId, target.dataAddr, effectsOf(params));
    return switchOrStop(target.replicaId, state);
  },

  async undo(target: FaultTarget | null, record: FaultRecord<NetworkFaultParams, NetworkFaultState>): Promise<void> {
    const state = record.state;
    if (!state?.proxy) return;
    // back to the replica's own address first, so no request meets a proxy that is stopping
    await pointBalancerAt(target?.replicaId ?? record.replicaId, null, addrOf(state.proxy));
    await stopProxyProcess(proxyFiles(record.replicaId), state.proxy.port, state.proxy.pid);
  },

  async resume(target: FaultTarget, record: FaultRecord<NetworkFaultParams, NetworkFaultState>): Promise<NetworkFaultState | null> {
    const state = record.state;
    if (!target.dataAddr || !state?.proxy) return null;
    const files = proxyFiles(target.replicaId);
    const live = await liveProxyPid(files, state.proxy.port);
    try {
      if (live !== null && state.target === addrOf(target.dataAddr)) {
        return await switchOrStop(target.replicaId, { ...state, proxy: { ...state.proxy, pid: live } });
      }
      // gone, or forwarding to an address the replica no longer has: a new proxy, on the same port when it is free
      if (live !== null) await stopProxyProcess(files, state.proxy.port, live);
      const next = await startOnFreePort(target.replicaId, target.dataAddr, effectsOf(record.params), state.proxy.port);
      return await switchOrStop(target.replicaId, next);
    } catch {
      return null;
    }
  },
};
