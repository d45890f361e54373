import type { Rules } from "@/lib/core/rules";

/** A short, human summary of what changed between two rule sets, for revision lists and events. */
export function summarizeRulesChange(before: Rules, after: Rules): string {
  const parts: string[] = [];
  if (before.algorithm !== after.algorithm) parts.push(`algorithm ${before.algorithm} → ${after.algorithm}`);
  if (before.sticky.mode !== after.sticky.mode) parts.push(`sticky ${before.sticky.mode} → ${after.sticky.mode}`);
  else if (JSON.stringify(before.sticky) !== JSON.stringify(after.sticky)) parts.push("sticky cookie");
  const keys = ["healthCheck", "passive", "retries", "timeouts", "route"] as const;
  for (const k of keys) if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) parts.push(k === "healthCheck" ? "health check" : k);
  if (before.drainTimeoutMs !== after.drainTimeoutMs) parts.push("drain timeout");
  if (before.slowStartMs !== after.slowStartMs) parts.push("slow start");
  return parts.length ? parts.join(", ") : "no change";
}
