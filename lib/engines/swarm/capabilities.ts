import { AppError } from "@/lib/core/errors";
import type { Rules } from "@/lib/core/rules";
import { ALL_CAPABILITIES, capabilitiesExcept, unsupportedOptions } from "@/lib/engines/capabilities";
import type { EngineCapabilities } from "@/lib/engines/types";

/**
 * What a Swarm service's balancer (its own HAProxy on the Swarm, lib/runtime/swarm-balancer.ts)
 * cannot do, with the reason the API gives (409) and the rules editor shows. Pure (the editor
 * imports it). Every other rule is carried out: by that balancer (algorithm, health check,
 * timeouts, retries, cookie stickiness, slow start, passive checks) or by the panel's listener
 * in front of it (routes: host, path, strip prefix, listeners). Weights are per replica, and a
 * Swarm task's weight is refused where it is set (replica actions), since the balancer's servers
 * follow Docker's DNS, not the tasks' slots.
 */
export const SWARM_BALANCER_CAPABILITIES: EngineCapabilities = capabilitiesExcept({
  "sticky.source":
    "every request reaches the Swarm balancer from the panel's listener, so sticking to the source address would send all clients to one task; use cookie stickiness",
  "algorithm.source_hash":
    "every request reaches the Swarm balancer from the panel's listener, so hashing the source address would send all clients to one task; use cookie stickiness or another algorithm",
});

/** The panel engine's capabilities narrowed by the Swarm balancer's (its reason where it cannot). */
export function withSwarmBalancer(capabilities: EngineCapabilities): EngineCapabilities {
  return Object.fromEntries(ALL_CAPABILITIES.map((c) => [c, SWARM_BALANCER_CAPABILITIES[c] === true ? capabilities[c] : SWARM_BALANCER_CAPABILITIES[c]])) as EngineCapabilities;
}

/** Refuses (409, naming each option and why) rules a Swarm service's balancer cannot carry out. */
export function assertSwarmSupported(rules: Rules): void {
  const missing = unsupportedOptions(SWARM_BALANCER_CAPABILITIES, rules);
  if (missing.length === 0) return;
  throw new AppError("conflict", missing.map((m) => `a Swarm service's balancer cannot do ${m.option}: ${m.reason}`).join("; "), { engine: "swarm", unsupported: missing });
}
