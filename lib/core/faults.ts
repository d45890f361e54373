/**
 * What the faults that need nothing from the app take (issue 14, item 2), as zod schemas
 * shared by the API (lib/core/mgmt.ts replicaActionSchema), the fault kinds (lib/faults)
 * and the replica card's forms.
 */
import { z } from "zod";

/** Signals an operator may send a replica (kill with a chosen signal; an action, not a lasting fault). */
export const KILL_SIGNALS = ["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
export type KillSignal = (typeof KILL_SIGNALS)[number];

/**
 * A network fault: the API body of `{"action": "network-fault", …}` without its `action`.
 * Every effect is carried out by the per-replica fault proxy on the balancer → replica
 * path (lib/faults/network/); the panel's direct path never passes through it.
 */
export const networkFaultParamsSchema = z
  .object({
    /** added before each HTTP request is forwarded (per request, also on keep-alive connections) */
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    /** share of requests the proxy answers itself with 503 instead of forwarding */
    errorRate: z.number().min(0).max(1).optional(),
    /** every connection is reset (TCP RST) as soon as it is accepted */
    reset: z.boolean().optional(),
    /** connections are accepted and never answered */
    blackhole: z.boolean().optional(),
    /** time limit; the fault store undoes the fault when it passes */
    seconds: z.number().int().min(1).max(3600),
  })
  .strict()
  .refine((p) => (p.latencyMs ?? 0) > 0 || (p.errorRate ?? 0) > 0 || p.reset === true || p.blackhole === true, {
    message: "a network fault needs at least one effect: latencyMs, errorRate, reset or blackhole",
  });

export type NetworkFaultParams = z.infer<typeof networkFaultParamsSchema>;

/** What a fault does, in words for events and answers. */
export function describeFault(kind: string, params: unknown): string {
  const p = (params ?? {}) as Record<string, unknown>;
  if (kind === "pause") return "pause";
  if (kind === "runtime-stress") {
    const parts = [p.cpus ? `${String(p.cpus)} CPU` : null, p.memoryMb ? `${String(p.memoryMb)} MB memory` : null].filter(Boolean);
    return `runtime stress (${parts.join(", ")})`;
  }
  if (kind === "network-fault") {
    const parts = [
      p.latencyMs ? `${String(p.latencyMs)} ms latency` : null,
      p.errorRate ? `${Math.round(Number(p.errorRate) * 100)}% errors` : null,
      p.reset ? "connection resets" : null,
      p.blackhole ? "black hole" : null,
    ].filter(Boolean);
    return `network fault (${parts.join(", ")})`;
  }
  return kind;
}

/** Time left until `expiresAt` as the card counts it down: "4:05 left", "12 s left", "ending…". */
export function timeLeftText(expiresAt: string, now: number): string {
  const s = Math.ceil((Date.parse(expiresAt) - now) / 1000);
  if (!(s > 0)) return "ending…";
  if (s < 60) return `${s} s left`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec} left` : `${m}:${sec} left`;
}
