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
