import { z } from "zod";
import { listenerSchema } from "@/lib/core/listeners";
import { rulesViewSchema } from "@/lib/core/rules";
import { idParamSchema } from "@/lib/core/service";

/**
 * What the balancer API answers (GET /api/balancer, revisions, previews, applies), as
 * zod schemas: the OpenAPI document (lib/openapi) is generated from them, and the
 * contract check validates every answer against it. Pure, like the rest of lib/core.
 * The request schemas of these routes are the rules and listener schemas.
 */

const routeRefSchema = z.object({ service: z.string(), route: z.number().int(), describes: z.string() });

/** The configuration the engines render (lib/engines/types.ts BalancerConfig): listeners and services with their servers. */
export const balancerConfigSchema = z.looseObject({
  listen: z.object({ host: z.string(), port: z.number().int() }),
  listeners: z.array(z.looseObject({ name: z.string(), host: z.string(), port: z.number().int(), protocol: z.string() })).optional(),
  services: z.array(z.looseObject({ id: z.string(), name: z.string(), rules: z.unknown(), servers: z.array(z.looseObject({ name: z.string() })) })),
});

export const revisionViewSchema = z.object({
  number: z.number().int(),
  engine: z.string(),
  status: z.string(),
  engineError: z.string().nullable(),
  summary: z.string(),
  author: z.string(),
  serviceId: z.string().nullable(),
  createdAt: z.string(),
});

/** GET /api/balancer/revisions: each revision with its diffs against the applied revision before it. */
export const revisionListItemSchema = revisionViewSchema.extend({
  diff: z.string(),
  rulesDiff: z.string(),
  scaling: z.array(z.object({ service: z.string(), added: z.array(z.string()), removed: z.array(z.string()) })),
  previous: z.number().int().nullable(),
});

export const revisionDetailSchema = revisionViewSchema.extend({ rendered: z.string(), config: balancerConfigSchema });

/** What an apply (rules, listeners, rollback) answers: the new revision and the config diff. */
export const applyResultSchema = z.object({ revision: revisionViewSchema, diff: z.string() });
export const applyRulesResultSchema = applyResultSchema.extend({ rules: rulesViewSchema });
export const listenersApplyResultSchema = applyResultSchema.extend({ listeners: z.array(listenerSchema) });

const execCauseSchema = z.looseObject({});

/** POST /api/balancer/preview: the proposed config, the live one, their diff, the engine's check, shadowed routes. */
export const previewResultSchema = z.object({
  engine: z.string(),
  rendered: z.string(),
  live: z.string(),
  diff: z.string(),
  check: z.union([
    z.object({ ok: z.literal(true) }),
    z.object({ ok: z.literal(false), error: z.string(), cause: execCauseSchema.optional() }),
    z.object({ ok: z.null(), skipped: z.string() }),
  ]),
  shadowed: z.array(z.object({ shadowed: routeRefSchema, by: z.array(routeRefSchema), message: z.string() })),
});

const statsFeedSchema = z.object({
  source: z.string(),
  file: z.string(),
  records: z.number(),
  lost: z.number(),
  gaps: z.number(),
  detail: z.string().nullable(),
  lagBytes: z.number(),
  rotations: z.number(),
  error: z.string().optional(),
});

/** The engine as GET /api/balancer shows it: its status (partial when it cannot be asked), capabilities, and the controller's view. */
export const engineOverviewSchema = z.object({
  kind: z.string(),
  running: z.boolean(),
  version: z.string().nullable().optional(),
  mode: z.enum(["supervised", "external", "export-only"]).optional(),
  pid: z.number().int().nullable().optional(),
  listen: z.object({ host: z.string(), port: z.number().int() }).optional(),
  location: z.string().optional(),
  adopted: z.boolean().optional(),
  statsFeed: statsFeedSchema.optional(),
  /** capability -> true, or why not */
  capabilities: z.record(z.string(), z.union([z.literal(true), z.string()])),
  ready: z.boolean(),
  error: z.string().nullable().optional(),
});

export const balancerOverviewSchema = z.object({
  engine: engineOverviewSchema,
  revision: z.number().int(),
  config: balancerConfigSchema,
  live: z.string().nullable(),
});

// ------------------------------------------------------------------ requests

/** POST /api/balancer/preview. `rules` is checked by the strict rules schema inside the use case (one schema for API and forms). */
export const previewRequestSchema = z.object({ serviceId: idParamSchema, rules: z.unknown() }).strict();

/**
 * PUT /api/services/:id/rules. `rules` as above; `force`: apply even when a route would be
 * shadowed (never reached), refused with route_shadowed otherwise.
 */
export const rulesApplyRequestSchema = z.object({ baseRevision: z.number().int().min(0), rules: z.unknown(), force: z.boolean().optional() }).strict();

/** A revision number in a URL. */
export const revisionNumberSchema = z.coerce.number().int().min(1);
