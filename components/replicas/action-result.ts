import type { ReplicaAction } from "@/lib/core/mgmt";

/** One line saying what an action did, from the API's answer. Pure. */
export function describeResult(action: ReplicaAction, result: unknown): string {
  const r = (result ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" ? Math.round(v) : null);
  switch (action.action) {
    case "stress-memory":
      return `holding ${num(r.memoryMb) ?? action.mb} MB of extra memory; RSS now ${num(r.rssMb) ?? "?"} MB`;
    case "stress-cpu":
      return `burning CPU for ${action.seconds} s`;
    case "faults": {
      const f = (r.faults ?? {}) as { latencyMs?: number; errorRate?: number; failHealth?: boolean };
      const parts = [`latency +${f.latencyMs ?? 0} ms`, `errors ${Math.round((f.errorRate ?? 0) * 100)}%`, f.failHealth ? "health check failing" : "health check normal"];
      return `faults now: ${parts.join(", ")}`;
    }
    case "clear": {
      // the panel's own faults (lib/faults: "undid pause, …" or "no active faults"), then what the replica protocol's clear did
      const undid = Array.isArray(r.faultsCleared) && r.faultsCleared.length > 0 && typeof r.message === "string" ? r.message : null;
      if (!("releasedMb" in r)) return `cleared: ${undid ?? "no active faults"}`;
      const parts = [`released ${num(r.releasedMb) ?? 0} MB`];
      if (r.stoppedCpu) parts.push("stopped the CPU burn");
      if (r.clearedFaults) parts.push("cleared faults");
      if (typeof r.rssMb === "number") parts.push(`RSS now ${num(r.rssMb)} MB`);
      if (undid) parts.push(undid);
      return `cleared: ${parts.join(", ")}`;
    }
    case "info": {
      const mem = (r.memory ?? {}) as { rssMb?: number; limitMb?: number; percent?: number };
      const c = (r.counters ?? {}) as { requests?: number; errors?: number };
      return `pid ${r.pid ?? "?"}, up ${num(r.uptimeS) ?? "?"} s, RSS ${num(mem.rssMb) ?? "?"} of ${num(mem.limitMb) ?? "?"} MB (${num(mem.percent) ?? "?"}%), ${c.requests ?? 0} requests, ${c.errors ?? 0} errors`;
    }
    case "drain":
      return "set to drain: no new requests; it stays out of rotation until Ready";
    case "maint":
      return "set to maintenance: out of rotation until Ready";
    case "ready":
      return "set to ready: back in rotation once healthy";
    case "weight":
      return `weight set to ${action.weight}`;
    default:
      return typeof r.message === "string" ? r.message : `${action.action}: done`;
  }
}
