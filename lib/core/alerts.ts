import { z } from "zod";

/**
 * Alerts (issue 16, part 3): rules over the figures the collector already has, firing and
 * resolved with hysteresis, delivered to one webhook. The rule logic is
 * lib/alerts/evaluate.ts; this is the shape the API, the form and the stored setting share.
 */

export const ALERT_KINDS = ["replica_down", "ready_below", "error_rate", "p95_above", "autoscaler_at_max", "rollout_rolled_back", "certificate_expiry"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_KIND_LOOK: Record<AlertKind, { label: string; threshold: { label: string; unit: string; min: number; max: number } | null }> = {
  replica_down: { label: "a replica is down", threshold: null },
  ready_below: { label: "fewer replicas in rotation than", threshold: { label: "replicas", unit: "", min: 1, max: 200 } },
  error_rate: { label: "error rate above", threshold: { label: "errors", unit: "%", min: 0, max: 100 } },
  p95_above: { label: "p95 latency above", threshold: { label: "p95", unit: "ms", min: 1, max: 600_000 } },
  autoscaler_at_max: { label: "the autoscaler is at its maximum and wants more", threshold: null },
  rollout_rolled_back: { label: "a rollout rolled back (holds for the minutes given after it)", threshold: { label: "for", unit: "min", min: 1, max: 1440 } },
  certificate_expiry: { label: "a certificate expires within", threshold: { label: "days", unit: "days", min: 1, max: 365 } },
};

const RULE_ID = /^[a-z0-9]{1,16}$/;

export const alertRuleSchema = z
  .object({
    id: z.string().regex(RULE_ID, "an id: up to 16 lower-case letters or digits"),
    kind: z.enum(ALERT_KINDS),
    /** one service, or null for every service */
    serviceId: z
      .string()
      .regex(/^[a-z0-9]{1,40}$/)
      .nullable()
      .default(null),
    threshold: z.number().min(0).max(600_000).default(0),
    /** the condition must hold this long before the alert fires */
    forS: z.number().int().min(0).max(3600).default(10),
    /** and must be gone this long before it resolves (a flapping signal stays one firing alert) */
    resolveS: z.number().int().min(0).max(3600).default(10),
  })
  .strict()
  .refine((r) => {
    const t = ALERT_KIND_LOOK[r.kind].threshold;
    return !t || (r.threshold >= t.min && r.threshold <= t.max);
  }, { message: "threshold out of range for this kind", path: ["threshold"] });
export type AlertRule = z.infer<typeof alertRuleSchema>;

/** Only http(s) URLs; no credentials in them (the secret signs the body instead). */
export const webhookUrlSchema = z
  .string()
  .max(2000)
  .refine((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === "";
    } catch {
      return false;
    }
  }, "an http:// or https:// URL without user or password");

export const alertSettingsSchema = z
  .object({
    webhook: z
      .object({
        url: webhookUrlSchema,
        /** HMAC-SHA256 key of the X-Switchyard-Signature header; empty: no signature. Kept when the field is absent on a change. */
        secret: z
          .string()
          .max(200)
          .regex(/^[\x20-\x7e]*$/, "printable ASCII")
          .optional(),
      })
      .strict()
      .nullable(),
    rules: z
      .array(alertRuleSchema)
      .max(50)
      .refine((rs) => new Set(rs.map((r) => r.id)).size === rs.length, "rule ids must differ"),
  })
  .strict();
export type AlertSettings = z.infer<typeof alertSettingsSchema>;

/** What the API shows: never the secret, only whether there is one; and the alerts firing now. */
export type AlertSettingsView = {
  webhook: { url: string; signed: boolean } | null;
  rules: AlertRule[];
  active: { key: string; ruleId: string; serviceId: string | null; serviceName: string | null; replicaId: string | null; phase: "firing" | "resolving"; startsAt: number | null; summary: string }[];
};

/** AlertSettingsView as a schema (the OpenAPI document, lib/openapi): the answer of GET/PUT /api/alerts. */
export const alertSettingsViewSchema = z.object({
  webhook: z.object({ url: z.string(), signed: z.boolean() }).nullable(),
  rules: z.array(alertRuleSchema),
  active: z.array(
    z.object({
      key: z.string(),
      ruleId: z.string(),
      serviceId: z.string().nullable(),
      serviceName: z.string().nullable(),
      replicaId: z.string().nullable(),
      phase: z.enum(["firing", "resolving"]),
      startsAt: z.number().nullable(),
      summary: z.string(),
    }),
  ),
});

/**
 * The webhook's JSON body (documented in the README): one per firing and one per resolved.
 * `X-Switchyard-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>` when a secret is set.
 */
export type AlertPayload = {
  version: 1;
  status: "firing" | "resolved";
  alert: {
    /** stable per condition: rule id, service, replica */
    key: string;
    rule: { id: string; kind: AlertKind; threshold: number; forS: number; resolveS: number };
    /** null for a certificate */
    service: { id: string; name: string } | null;
    replicaId: string | null;
    certificateId: string | null;
    summary: string;
    value: number | null;
    startsAt: string;
    endsAt: string | null;
  };
  sentAt: string;
};
