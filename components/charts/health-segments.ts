import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";

/** The health timeline's model: what each replica was doing, second by second, as run-length segments. Pure. */

export type Phase = "in" | "out" | "admin" | "transition";

export const PHASES: Record<Phase, { color: string; label: string }> = {
  in: { color: "#10b981", label: "in rotation" },
  out: { color: "#e11d48", label: "out of rotation (health check fails)" },
  admin: { color: "#f59e0b", label: "drain / maint (set by an operator)" },
  transition: { color: "#a1a1aa", label: "starting or leaving" },
};

export function phaseOf(r: ReplicaTick): Phase {
  if (r.inRotation) return "in";
  if (r.health.status === "drain" || r.health.status === "maint") return "admin";
  if (r.health.reason && /^(starting|draining|stopping)$/.test(r.health.reason)) return "transition";
  return "out";
}

export type Segment = { from: number; to: number; phase: Phase; reason: string | null };

/** Run-length segments per replica: one rectangle per stretch of the same phase (`stepMs`: how long the newest point lasts). */
export function healthSegments(history: ServiceTick[], stepMs = 1000): Map<string, Segment[]> {
  const lanes = new Map<string, Segment[]>();
  for (let i = 0; i < history.length; i++) {
    const tick = history[i];
    const next = history[i + 1]?.t ?? tick.t + stepMs;
    for (const r of tick.replicas) {
      const phase = phaseOf(r);
      let segs = lanes.get(r.replicaId);
      if (!segs) lanes.set(r.replicaId, (segs = []));
      const last = segs[segs.length - 1];
      if (last && last.phase === phase && last.to === tick.t) last.to = next;
      else segs.push({ from: tick.t, to: next, phase, reason: r.health.reason });
    }
  }
  return lanes;
}
