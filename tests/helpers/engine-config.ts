import type { BalancerServer } from "@/lib/engines/types";

/** A balancer server for a test replica (name r-<id>, loopback, weight 1, ready). */
export const serverOf = (r: { id: string; port: number }, extra: Partial<BalancerServer> = {}): BalancerServer => ({
  replicaId: r.id,
  name: `r-${r.id}`,
  host: "127.0.0.1",
  port: r.port,
  weight: 1,
  adminState: "ready",
  ...extra,
});
