import { expect } from "vitest";
import type { BalancerConfig, BalancerServer, BalancerService, RunningEngine } from "@/lib/engines/types";

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

/** The whole balancer configuration for services on a loopback listener. */
export const configAt = (port: number, ...services: BalancerService[]): BalancerConfig => ({ listen: { host: "127.0.0.1", port }, services });

/** Apply through the engine's own render and expect a successful reload. */
export async function applyOk(engine: RunningEngine, config: BalancerConfig): Promise<void> {
  const result = await engine.apply(engine.render(config), config);
  expect(result).toEqual({ ok: true, reloaded: true });
}

/** Is `n` within `fraction` of `expected`? (distribution checks) */
export const within = (n: number, expected: number, fraction: number): boolean => Math.abs(n - expected) <= expected * fraction;
