import { AppError } from "@/lib/core/errors";
import type { Rules } from "@/lib/core/rules";
import type { Capability, EngineCapabilities, EngineKind } from "@/lib/engines/types";

/**
 * Capability checks shared by every engine: which rule options a service's rules
 * use, and which of them an engine cannot do (with the engine's reason). Pure.
 */

// A Record so the compiler insists every Capability is listed.
const capabilitySet: Record<Capability, true> = {
  "algorithm.round_robin": true,
  "algorithm.least_conn": true,
  "algorithm.random_two": true,
  "algorithm.source_hash": true,
  "algorithm.uri_hash": true,
  "sticky.cookie": true,
  "sticky.source": true,
  "healthCheck.active": true,
  passive: true,
  retries: true,
  "retries.redispatch": true,
  drain: true,
  slowStart: true,
  "route.host": true,
  "route.stripPrefix": true,
  dynamicServers: true,
  hitlessReload: true,
};

/** Every capability, in a stable order (for UIs and for building capability maps). */
export const ALL_CAPABILITIES = Object.keys(capabilitySet) as readonly Capability[];

/** A capability map where everything is supported except `missing` (capability -> reason). */
export function capabilitiesExcept(missing: Partial<Record<Capability, string>> = {}): EngineCapabilities {
  return Object.fromEntries(ALL_CAPABILITIES.map((c) => [c, missing[c] ?? true])) as EngineCapabilities;
}

export type RequiredCapability = {
  capability: Capability;
  /** what the operator chose, in words, e.g. "algorithm least_conn", "cookie stickiness" */
  option: string;
};

export type UnsupportedOption = RequiredCapability & { reason: string };

/**
 * The capabilities a set of rules needs. Active health checks are not listed: every
 * rule set has one, and where an engine lacks them the panel's prober supplies them.
 */
export function requiredCapabilities(rules: Rules): RequiredCapability[] {
  const needs: RequiredCapability[] = [{ capability: `algorithm.${rules.algorithm}`, option: `algorithm ${rules.algorithm}` }];
  if (rules.sticky.mode === "cookie") needs.push({ capability: "sticky.cookie", option: "cookie stickiness" });
  if (rules.sticky.mode === "source") needs.push({ capability: "sticky.source", option: "source-IP stickiness" });
  if (rules.passive.maxFails > 0) needs.push({ capability: "passive", option: "passive health checks (maxFails > 0)" });
  if (rules.retries.count > 0) needs.push({ capability: "retries", option: "retries" });
  if (rules.retries.count > 0 && rules.retries.redispatch) needs.push({ capability: "retries.redispatch", option: "redispatch on retry" });
  if (rules.slowStartMs > 0) needs.push({ capability: "slowStart", option: "slow start" });
  if (rules.routes.some((r) => r.hosts.length > 0)) needs.push({ capability: "route.host", option: "routing by host" });
  if (rules.routes.some((r) => r.stripPrefix && r.path !== "/")) needs.push({ capability: "route.stripPrefix", option: "strip path prefix" });
  return needs;
}

/** The options in `rules` that `capabilities` does not support, each with the engine's reason. */
export function unsupportedOptions(capabilities: EngineCapabilities, rules: Rules): UnsupportedOption[] {
  const out: UnsupportedOption[] = [];
  for (const need of requiredCapabilities(rules)) {
    const verdict = capabilities[need.capability];
    if (verdict !== true) out.push({ ...need, reason: verdict });
  }
  return out;
}

/**
 * Throws AppError("unsupported", "<engine> cannot do <option>: <reason>") naming every
 * option of `rules` the engine cannot do; details carry the structured list.
 */
export function assertSupported(engine: { kind: EngineKind; capabilities: EngineCapabilities }, rules: Rules): void {
  const missing = unsupportedOptions(engine.capabilities, rules);
  if (missing.length === 0) return;
  const message = missing.map((m) => `${engine.kind} cannot do ${m.option}: ${m.reason}`).join("; ");
  throw new AppError("unsupported", message, { engine: engine.kind, unsupported: missing });
}
