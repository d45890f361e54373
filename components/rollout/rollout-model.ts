import type { RolloutView } from "@/lib/core/rollout";
import type { Tone } from "@/components/ui/badge";

/**
 * The Rollout card's pure parts: the start form's draft to a request body (the API checks
 * it again with lib/core/rollout.ts's schema), and each step's status for the list.
 */

export type RolloutDraft = { strategy: "canary" | "rolling"; image: string; env: string; weights: string; batchSize: string; holdS: string; minRequests: string; passOnHealthWhenQuiet: boolean };

export const emptyDraft = (env: Record<string, string>): RolloutDraft => ({
  strategy: "canary",
  image: "",
  env: Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n"),
  weights: "10, 50",
  batchSize: "1",
  holdS: "30",
  minRequests: "50",
  passOnHealthWhenQuiet: false,
});

const whole = (s: string) => (/^\d{1,6}$/.test(s.trim()) ? Number(s.trim()) : NaN);

/** The draft as the API's body, or the fields that are wrong. */
export function requestOf(d: RolloutDraft): { ok: true; body: Record<string, unknown> } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const line of d.env.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const at = t.indexOf("=");
    if (at <= 0) errors.env = `"${t.slice(0, 40)}": one KEY=value a line`;
    else env[t.slice(0, at).trim()] = t.slice(at + 1).trim();
  }
  const weights = d.weights.split(",").map(whole);
  if (d.strategy === "canary" && (weights.length === 0 || weights.some((w) => !(w >= 1 && w <= 99)))) errors.weights = "percentages 1-99, rising, e.g. 10, 50";
  const batchSize = whole(d.batchSize);
  if (d.strategy === "rolling" && !(batchSize >= 1)) errors.batchSize = "a whole number ≥ 1";
  const holdS = whole(d.holdS);
  if (Number.isNaN(holdS)) errors.holdS = "seconds, a whole number";
  const minRequests = whole(d.minRequests);
  if (Number.isNaN(minRequests)) errors.minRequests = "a whole number";
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    body: {
      strategy: d.strategy,
      ...(d.image.trim() ? { image: d.image.trim() } : {}),
      env,
      ...(d.strategy === "canary" ? { weights } : { batchSize }),
      holdS,
      gates: { minRequests, passOnHealthWhenQuiet: d.passOnHealthWhenQuiet },
    },
  };
}

export type StepStatus = "done" | "current" | "pending" | "failed";

/** Each step's status, the promotion (100 %) as the last row. */
export function stepRows(v: RolloutView): { label: string; status: StepStatus }[] {
  const rows = v.steps.map((s, i) => {
    const label = s.newWeightPercent === null ? `batch ${i + 1}: ${s.newReplicas} new, ${s.oldReplicas} old` : `${s.newWeightPercent} % · ${s.newReplicas} new beside ${s.oldReplicas} old`;
    const past = v.state === "promoting" || v.state === "promoted" || i < v.step;
    const here = i === v.step && !past;
    const status: StepStatus = past ? "done" : here ? (v.state === "rolling_back" || v.state === "rolled_back" || v.state === "aborted" ? "failed" : "current") : "pending";
    return { label, status };
  });
  rows.push({ label: `100 % · promote: ${v.replicas} new, old drained`, status: v.state === "promoted" ? "done" : v.state === "promoting" ? "current" : "pending" });
  return rows;
}

export const STATE_LOOK: Record<RolloutView["state"], { tone: Tone; text: string }> = {
  running: { tone: "blue", text: "running" },
  paused: { tone: "amber", text: "paused" },
  promoting: { tone: "blue", text: "promoting" },
  rolling_back: { tone: "red", text: "rolling back" },
  promoted: { tone: "green", text: "promoted" },
  rolled_back: { tone: "red", text: "rolled back" },
  aborted: { tone: "zinc", text: "aborted" },
};
