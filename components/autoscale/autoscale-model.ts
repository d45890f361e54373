import { AUTOSCALE_METRICS, HPA_DEFAULTS, autoscaleSettingsSchema, type AutoscaleMetric, type AutoscaleSettings } from "@/lib/core/autoscale";

/**
 * The Autoscaling card's form (pure): every field as the person types it, and the
 * settings it makes, checked by the same schema as the API.
 */
export type AutoscaleDraft = {
  enabled: boolean;
  minReplicas: string;
  maxReplicas: string;
  windowS: string;
  targets: Record<AutoscaleMetric, { on: boolean; value: string }>;
};

/** What a target starts at when the person ticks it. */
export const TARGET_PLACEHOLDER: Record<AutoscaleMetric, number> = { rps: 50, inflight: 10, p95: 200, cpu: 70, memory: 80 };

export const WINDOW_PRESETS = [
  { s: HPA_DEFAULTS.windowS, label: `${HPA_DEFAULTS.windowS} s (Kubernetes' default)` },
  { s: HPA_DEFAULTS.demoWindowS, label: `${HPA_DEFAULTS.demoWindowS} s (demo)` },
] as const;

export function draftOf(s: AutoscaleSettings): AutoscaleDraft {
  const targets = Object.fromEntries(
    AUTOSCALE_METRICS.map((m) => {
      const t = s.targets.find((x) => x.metric === m);
      return [m, { on: Boolean(t), value: String(t?.value ?? TARGET_PLACEHOLDER[m]) }];
    }),
  ) as AutoscaleDraft["targets"];
  return { enabled: s.enabled, minReplicas: String(s.minReplicas), maxReplicas: String(s.maxReplicas), windowS: String(s.windowS), targets };
}

/** The settings, or the first problem per field ("minReplicas", "targets.p95", ...). */
export function settingsOf(d: AutoscaleDraft): { ok: true; settings: AutoscaleSettings } | { ok: false; errors: Record<string, string> } {
  const num = (v: string) => (v.trim() === "" ? NaN : Number(v));
  const raw = {
    enabled: d.enabled,
    minReplicas: num(d.minReplicas),
    maxReplicas: num(d.maxReplicas),
    windowS: num(d.windowS),
    targets: AUTOSCALE_METRICS.filter((m) => d.targets[m].on).map((m) => ({ metric: m, value: num(d.targets[m].value) })),
  };
  const parsed = autoscaleSettingsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, settings: parsed.data };
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const [field, index] = issue.path;
    const key = field === "targets" && typeof index === "number" ? `targets.${raw.targets[index]?.metric}` : String(field ?? "form");
    const message = issue.code === "invalid_type" ? "a number" : issue.message;
    errors[key] ??= message;
  }
  return { ok: false, errors };
}
