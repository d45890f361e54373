import { z } from "zod";

/**
 * A service's autoscaling settings (issue 16, part 1): one zod schema for the API, the
 * form and the stored row. The rule that uses them is lib/autoscale/decide.ts.
 */

/** What a target measures, per replica; every figure comes from the collector's ticks (the balancer and the runtime). */
export const AUTOSCALE_METRICS = ["rps", "inflight", "p95", "cpu", "memory"] as const;
export type AutoscaleMetric = (typeof AUTOSCALE_METRICS)[number];

export const METRIC_LOOK: Record<AutoscaleMetric, { label: string; unit: string; short: string; max: number }> = {
  rps: { label: "requests/s per replica", unit: "req/s", short: "rps/replica", max: 100_000 },
  inflight: { label: "in-flight requests per replica", unit: "", short: "in-flight/replica", max: 10_000 },
  p95: { label: "p95 latency", unit: "ms", short: "p95", max: 600_000 },
  cpu: { label: "CPU % per replica", unit: "%", short: "CPU", max: 10_000 },
  memory: { label: "memory % of the limit per replica", unit: "%", short: "memory", max: 100 },
};

/** The Kubernetes HPA's defaults (see docs/DESIGN.md, Autoscaling). */
export const HPA_DEFAULTS = {
  /** no change while |1 - metric/target| is at most this */
  tolerance: 0.1,
  /** scale-down stabilization window: the highest recommendation of this many seconds wins */
  windowS: 300,
  /** the demo preset of the window */
  demoWindowS: 30,
  /** a replica ready for less than this does not count (the HPA's initial-readiness-delay) */
  readinessDelayS: 30,
  /** scale-up policies: at most double, or +4, per this period (whichever allows more) */
  scaleUpPeriodS: 15,
  scaleUpPercent: 100,
  scaleUpPods: 4,
} as const;

export const WINDOW_LIMITS = { min: 0, max: 3600 } as const;

export const autoscaleTargetSchema = z
  .object({
    metric: z.enum(AUTOSCALE_METRICS),
    value: z.number().positive("a target above 0"),
  })
  .strict()
  .refine((t) => t.value <= METRIC_LOOK[t.metric].max, { message: "target too large for this metric", path: ["value"] });
export type AutoscaleTarget = z.infer<typeof autoscaleTargetSchema>;

const replicas = z.number().int().min(1).max(200);

export const autoscaleSettingsSchema = z
  .object({
    enabled: z.boolean(),
    minReplicas: replicas,
    maxReplicas: replicas,
    /** the scale-down stabilization window, seconds (0-3600; the HPA's default 300, a demo preset 30) */
    windowS: z.number().int().min(WINDOW_LIMITS.min).max(WINDOW_LIMITS.max),
    targets: z
      .array(autoscaleTargetSchema)
      .max(AUTOSCALE_METRICS.length)
      .refine((ts) => new Set(ts.map((t) => t.metric)).size === ts.length, "one target per metric"),
  })
  .strict()
  .refine((s) => s.minReplicas <= s.maxReplicas, { message: "minReplicas must not exceed maxReplicas", path: ["minReplicas"] })
  .refine((s) => !s.enabled || s.targets.length > 0, { message: "an enabled autoscaler needs at least one target", path: ["targets"] });
export type AutoscaleSettings = z.infer<typeof autoscaleSettingsSchema>;

export const defaultAutoscaleSettings = (): AutoscaleSettings => ({
  enabled: false,
  minReplicas: 2,
  maxReplicas: 10,
  windowS: HPA_DEFAULTS.windowS,
  targets: [{ metric: "rps", value: 50 }],
});

/** What the API and the page show: the settings, whether a person's slider paused it, and the last decisions. */
export type AutoscaleView = AutoscaleSettings & {
  serviceId: string;
  paused: { at: string; by: string } | null;
  /** the loop's last evaluation (held or changed) since the panel started; null: none yet */
  status: { at: number; current: number; desired: number; recommendation: number | null; reason: string } | null;
  /** the last changes it made, newest first */
  decisions: AutoscaleDecisionView[];
};

export type AutoscaleDecisionView = { id: number; at: string; from: number; to: number; message: string };

/** AutoscaleView as a schema (the OpenAPI document, lib/openapi): the answer of GET/PUT …/autoscale and …/autoscale/resume. */
export const autoscaleViewSchema = z.object({
  enabled: z.boolean(),
  minReplicas: z.number().int(),
  maxReplicas: z.number().int(),
  windowS: z.number().int(),
  targets: z.array(z.object({ metric: z.enum(AUTOSCALE_METRICS), value: z.number() })),
  serviceId: z.string(),
  paused: z.object({ at: z.string(), by: z.string() }).nullable(),
  status: z.object({ at: z.number(), current: z.number(), desired: z.number(), recommendation: z.number().nullable(), reason: z.string() }).nullable(),
  decisions: z.array(z.object({ id: z.number().int(), at: z.string(), from: z.number().int(), to: z.number().int(), message: z.string() })),
});

/** A figure with its unit, as decision reasons and the card write it: "420 ms", "12.5 req/s", "81 %". */
export function formatFigure(metric: AutoscaleMetric, v: number): string {
  const n = v >= 100 ? Math.round(v).toString() : (Math.round(v * 10) / 10).toString();
  const unit = METRIC_LOOK[metric].unit;
  return unit === "" ? n : unit === "%" ? `${n} %` : `${n} ${unit}`;
}
