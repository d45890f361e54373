import { z } from "zod";
import type { AppErrorCode } from "@/lib/core/errors";
import type { Role } from "@/lib/core/roles";
import {
  applyResultSchema,
  applyRulesResultSchema,
  balancerOverviewSchema,
  listenersApplyResultSchema,
  previewRequestSchema,
  previewResultSchema,
  revisionDetailSchema,
  revisionListItemSchema,
  revisionNumberSchema,
  rulesApplyRequestSchema,
} from "@/lib/core/balancer-views";
import { clusterNodesViewSchema, nodeAvailabilitySchema } from "@/lib/core/cluster-nodes";
import { alertSettingsSchema, alertSettingsViewSchema } from "@/lib/core/alerts";
import { autoscaleSettingsSchema, autoscaleViewSchema } from "@/lib/core/autoscale";
import { rolloutActionSchema, rolloutRequestSchema, rolloutViewSchema } from "@/lib/core/rollout";
import { eventPageSchema, eventQuerySchema } from "@/lib/core/event-query";
import { certificateIdSchema, certificateViewSchema, createCertificateSchema, createListenerSchema, listenerIdParamSchema, listenerSchema, updateListenerSchema } from "@/lib/core/listeners";
import { metricsHistorySchema, storedRangeSchema } from "@/lib/core/metric-history";
import { trafficSettingsSchema, trafficStatusSchema } from "@/lib/core/metrics";
import { replicaActionResultSchema, replicaActionSchema } from "@/lib/core/mgmt";
import { tryRequestSchema, tryResultSchema } from "@/lib/core/route-try";
import { rulesSchema, rulesViewSchema } from "@/lib/core/rules";
import { allowListSchema } from "@/lib/core/run-policy";
import { createServiceSchema, idParamSchema, replicaLogsQuerySchema, replicaViewSchema, serviceViewSchema, updateServiceSchema } from "@/lib/core/service";
import { credentialsSchema, createUserSchema, sessionUserSchema, setupSchema, updateUserSchema, userViewSchema } from "@/lib/core/users";
import { DOCS_FILES } from "@/lib/openapi/docs-page";
import { changePasswordSchema } from "@/lib/services/change-password";
import { exportQuerySchema } from "@/lib/services/balancer-overview";
import { createMetricsTokenSchema, metricsTokenViewSchema } from "@/lib/services/manage-metrics-tokens";

/**
 * Every HTTP operation of the panel's API, in one table: the OpenAPI document
 * (lib/openapi/document.ts) is generated from it, tests/unit/openapi-routes.test.ts
 * proves every exported handler under app/api is listed here with the role its
 * route(role, …) asks for, and the contract check (lib/openapi/contract.ts) validates
 * the integration and e2e suites' requests and answers against the document.
 *
 * `access`: "public" (no sign-in), a role (a session of at least that role, the
 * sy_session cookie), or "metrics-token" (a bearer token made in Settings).
 * `errors`: the AppError codes (lib/core/errors.ts) the operation's own use case may
 * answer; the ones every operation of its kind may answer (sign-in, origin, body,
 * parameters, a busy database, an internal error) are added by the document.
 */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type Access = "public" | Role | "metrics-token";

/** A successful answer: JSON with a schema, or another content type (text, PEM). */
export type SuccessResponse = { description: string; schema?: z.ZodType; contentType?: string | string[] };

export type Operation = {
  method: HttpMethod;
  /** OpenAPI form: /api/services/{id} */
  path: string;
  tag: string;
  summary: string;
  access: Access;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, SuccessResponse>;
  errors?: AppErrorCode[];
};

const ok = z.object({ ok: z.literal(true) });
const json = (description: string, schema: z.ZodType): SuccessResponse => ({ description, schema });
const id = { id: idParamSchema };

/** Rules as the apply and preview requests take them: the strict rules schema (the use case parses them with it). */
const rulesPreviewBody = previewRequestSchema.extend({ rules: rulesSchema });
const rulesApplyBody = rulesApplyRequestSchema.extend({ rules: rulesSchema });

export const operations: Operation[] = [
  // ---------------------------------------------------------------- health, auth, account
  {
    method: "GET",
    path: "/api/health",
    tag: "health",
    summary: "Liveness for container health checks: status and version only",
    access: "public",
    responses: { 200: json("The panel answers", z.object({ status: z.literal("ok"), version: z.string() })) },
  },
  {
    method: "POST",
    path: "/api/auth/setup",
    tag: "auth",
    summary: "Create the first admin while no user exists, and sign it in (sets the sy_session cookie)",
    access: "public",
    body: setupSchema,
    responses: { 201: json("The first admin, signed in", z.object({ user: sessionUserSchema })) },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/auth/login",
    tag: "auth",
    summary: "Sign in: sets the sy_session cookie (HttpOnly, SameSite=Lax) that every other operation needs",
    access: "public",
    body: credentialsSchema,
    responses: { 200: json("Signed in", z.object({ user: sessionUserSchema })) },
    errors: ["unauthorized", "too_many_requests"],
  },
  {
    method: "POST",
    path: "/api/auth/logout",
    tag: "auth",
    summary: "Sign out: ends the session and clears the cookie",
    access: "viewer",
    responses: { 200: json("Signed out", ok) },
  },
  {
    method: "GET",
    path: "/api/auth/me",
    tag: "auth",
    summary: "Who is signed in",
    access: "viewer",
    responses: { 200: json("The signed-in user", z.object({ user: sessionUserSchema })) },
  },
  {
    method: "POST",
    path: "/api/account/password",
    tag: "account",
    summary: "Change your own password (the current one is required); every other session of yours ends",
    access: "viewer",
    body: changePasswordSchema,
    responses: { 200: json("Changed", z.object({ ok: z.literal(true), endedSessions: z.number().int() })) },
    errors: ["forbidden", "too_many_requests"],
  },

  {
    method: "GET",
    path: "/api/openapi.json",
    tag: "docs",
    summary: "This document (OpenAPI 3.1), for signed-in users",
    access: "viewer",
    responses: { 200: json("The document", z.looseObject({ openapi: z.literal("3.1.0"), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) })) },
  },
  {
    method: "GET",
    path: "/api/docs",
    tag: "docs",
    summary: "The interactive API reference (Swagger UI, served by the panel); a caller without a session gets a page that says where to sign in",
    access: "viewer",
    responses: { 200: { description: "The reference page", contentType: "text/html" }, 401: { description: "Not signed in: a page with a link to sign in", contentType: "text/html" } },
  },
  {
    method: "GET",
    path: "/api/docs/{file}",
    tag: "docs",
    summary: "The reference page's script and style (swagger-ui-dist's swagger-ui-bundle.js and swagger-ui.css, and the page's own)",
    access: "viewer",
    params: { file: z.enum(Object.keys(DOCS_FILES) as [string, ...string[]]) },
    responses: { 200: { description: "The file (JavaScript or CSS)", contentType: ["text/javascript", "text/css"] } },
    errors: ["not_found"],
  },

  // ---------------------------------------------------------------- services and replicas
  {
    method: "GET",
    path: "/api/services",
    tag: "services",
    summary: "Every service with its replicas (a viewer's without env values, command or process ids)",
    access: "viewer",
    responses: { 200: json("The services", z.object({ services: z.array(serviceViewSchema) })) },
  },
  {
    method: "POST",
    path: "/api/services",
    tag: "services",
    summary: "Create a service (its command, image, environment and allowRoot are checked against the run policy and the allow-list)",
    access: "operator",
    body: createServiceSchema,
    responses: { 201: json("Created", z.object({ service: serviceViewSchema })) },
    errors: ["conflict", "forbidden", "unavailable", "unsupported", "engine_error", "runtime_error"],
  },
  {
    method: "GET",
    path: "/api/services/{id}",
    tag: "services",
    summary: "One service with its replicas",
    access: "viewer",
    params: id,
    responses: { 200: json("The service", z.object({ service: serviceViewSchema })) },
    errors: ["not_found"],
  },
  {
    method: "PATCH",
    path: "/api/services/{id}",
    tag: "services",
    summary: "Change a service: scale (replicas), limits, environment, command or image, actions",
    access: "operator",
    params: id,
    body: updateServiceSchema,
    responses: { 200: json("The service as it is now", z.object({ service: serviceViewSchema })) },
    errors: ["not_found", "conflict", "forbidden", "unavailable", "unsupported", "engine_error", "runtime_error"],
  },
  {
    method: "DELETE",
    path: "/api/services/{id}",
    tag: "services",
    summary: "Delete a service: its replicas are drained and stopped",
    access: "operator",
    params: id,
    responses: { 200: json("Deleted", ok) },
    errors: ["not_found", "conflict", "engine_error", "runtime_error"],
  },
  {
    method: "GET",
    path: "/api/services/{id}/replicas",
    tag: "replicas",
    summary: "A service's replicas",
    access: "viewer",
    params: id,
    responses: { 200: json("The replicas", z.object({ replicas: z.array(replicaViewSchema) })) },
    errors: ["not_found"],
  },
  {
    method: "GET",
    path: "/api/services/{id}/rules",
    tag: "rules",
    summary: "A service's balancer rules and the current revision (the baseRevision of the next apply)",
    access: "viewer",
    params: id,
    responses: { 200: json("The rules", z.object({ rules: rulesViewSchema, revision: z.number().int() })) },
    errors: ["not_found"],
  },
  {
    method: "PUT",
    path: "/api/services/{id}/rules",
    tag: "rules",
    summary: "Apply new rules: validated, checked by the engine, applied hitlessly, recorded as a revision; a shadowed route needs force",
    access: "operator",
    params: id,
    body: rulesApplyBody,
    responses: { 200: json("Applied as a new revision", applyRulesResultSchema) },
    errors: ["not_found", "conflict", "route_shadowed", "unsupported", "engine_error", "too_many_requests"],
  },
  {
    method: "GET",
    path: "/api/services/{id}/metrics",
    tag: "services",
    summary: "The stored minute points of a range (15m, 1h, 24h), bucketed, as ticks",
    access: "viewer",
    params: id,
    query: z.object({ range: storedRangeSchema.default("1h") }),
    responses: { 200: json("The history", metricsHistorySchema) },
    errors: ["not_found"],
  },
  {
    method: "GET",
    path: "/api/cluster/nodes",
    tag: "cluster",
    summary: "The Swarm's nodes (role, state, availability) and the panel's replicas each runs; empty with a reason when no manager is set or reachable",
    access: "viewer",
    responses: { 200: json("The nodes", clusterNodesViewSchema) },
  },
  {
    method: "POST",
    path: "/api/cluster/nodes/{id}",
    tag: "cluster",
    summary: "Drain a Swarm node (its tasks move elsewhere) or make it active again",
    access: "admin",
    params: id,
    body: nodeAvailabilitySchema,
    responses: { 200: json("The nodes after the change", clusterNodesViewSchema) },
    errors: ["not_found", "unavailable"],
  },
  {
    method: "GET",
    path: "/api/services/{id}/autoscale",
    tag: "autoscale",
    summary: "A service's autoscaler: settings, whether a person's slider paused it, its last evaluation and decisions",
    access: "viewer",
    params: id,
    responses: { 200: json("The autoscaler", z.object({ autoscale: autoscaleViewSchema })) },
    errors: ["not_found"],
  },
  {
    method: "PUT",
    path: "/api/services/{id}/autoscale",
    tag: "autoscale",
    summary: "Replace a service's autoscaler settings (on/off, min/max, window, one target per metric)",
    access: "operator",
    params: id,
    body: autoscaleSettingsSchema,
    responses: { 200: json("The autoscaler as saved", z.object({ autoscale: autoscaleViewSchema })) },
    errors: ["not_found"],
  },
  {
    method: "POST",
    path: "/api/services/{id}/autoscale/resume",
    tag: "autoscale",
    summary: "Lift the pause a person's slider set",
    access: "operator",
    params: id,
    responses: { 200: json("The autoscaler", z.object({ autoscale: autoscaleViewSchema })) },
    errors: ["not_found", "conflict"],
  },
  {
    method: "GET",
    path: "/api/services/{id}/rollouts",
    tag: "rollouts",
    summary: "A service's rollouts, newest first: steps, the current weight split, the last gate figures, why it ended",
    access: "viewer",
    params: id,
    responses: { 200: json("Its rollouts", z.object({ rollouts: z.array(rolloutViewSchema) })) },
    errors: ["not_found"],
  },
  {
    method: "POST",
    path: "/api/services/{id}/rollouts",
    tag: "rollouts",
    summary: "Start a rollout of a new image, command or environment: canary (weights, each held) or rolling (batches), with health gates against the old version",
    access: "operator",
    params: id,
    body: rolloutRequestSchema,
    responses: { 200: json("The rollout started", z.object({ rollout: rolloutViewSchema })) },
    errors: ["not_found", "conflict"],
  },
  {
    method: "GET",
    path: "/api/services/{id}/rollouts/{rolloutId}",
    tag: "rollouts",
    summary: "One rollout",
    access: "viewer",
    params: { id: idParamSchema, rolloutId: idParamSchema },
    responses: { 200: json("The rollout", z.object({ rollout: rolloutViewSchema })) },
    errors: ["not_found"],
  },
  {
    method: "POST",
    path: "/api/services/{id}/rollouts/{rolloutId}/{action}",
    tag: "rollouts",
    summary: "Promote, pause, resume or abort a rollout by hand (audited)",
    access: "operator",
    params: { id: idParamSchema, rolloutId: idParamSchema, action: rolloutActionSchema },
    responses: { 200: json("The rollout", z.object({ rollout: rolloutViewSchema })) },
    errors: ["not_found", "conflict"],
  },
  {
    method: "GET",
    path: "/api/services/{id}/traffic",
    tag: "traffic",
    summary: "The traffic generator's state for a service",
    access: "viewer",
    params: id,
    responses: { 200: json("Its state", z.object({ traffic: trafficStatusSchema })) },
  },
  {
    method: "POST",
    path: "/api/services/{id}/traffic",
    tag: "traffic",
    summary: "Start generating traffic to a service through the balancer (bounded rate and time)",
    access: "operator",
    params: id,
    body: trafficSettingsSchema,
    responses: { 200: json("Started", z.object({ traffic: trafficStatusSchema })) },
    errors: ["not_found", "conflict"],
  },
  {
    method: "DELETE",
    path: "/api/services/{id}/traffic",
    tag: "traffic",
    summary: "Stop the traffic generator",
    access: "operator",
    params: id,
    responses: { 200: json("Stopped", z.object({ traffic: trafficStatusSchema })) },
  },
  {
    method: "POST",
    path: "/api/replicas/{id}/actions",
    tag: "replicas",
    summary: "Act on one replica through its own admin address (stress, faults, clear, info), the engine (drain, maint, ready, weight) or the runtime (restart, stop, remove), or send one of the service's own actions (custom)",
    access: "operator",
    params: id,
    body: replicaActionSchema,
    responses: { 200: json("What the replica, engine or runtime answered", replicaActionResultSchema) },
    errors: ["not_found", "conflict", "forbidden", "unavailable", "engine_error", "runtime_error"],
  },
  {
    method: "GET",
    path: "/api/replicas/{id}/logs",
    tag: "replicas",
    summary: "The last lines of a replica's log (a viewer's with secrets and paths replaced)",
    access: "viewer",
    params: id,
    query: replicaLogsQuerySchema,
    responses: { 200: json("The lines", z.object({ lines: z.array(z.string()) })) },
    errors: ["not_found", "runtime_error"],
  },

  // ---------------------------------------------------------------- balancer
  {
    method: "GET",
    path: "/api/balancer",
    tag: "balancer",
    summary: "The engine, where it runs, its capabilities, its live config and the current revision",
    access: "viewer",
    responses: { 200: json("The overview", balancerOverviewSchema) },
  },
  {
    method: "GET",
    path: "/api/balancer/export",
    tag: "balancer",
    summary: "The current configuration rendered for any engine, secrets replaced by a placeholder (a file download)",
    access: "viewer",
    query: exportQuerySchema,
    responses: { 200: { description: "The config file: HAProxy and nginx text, builtin JSON, Traefik YAML (lib/engines/descriptors.ts)", contentType: ["text/plain", "application/json", "application/yaml"] } },
    errors: ["unsupported"],
  },
  {
    method: "POST",
    path: "/api/balancer/preview",
    tag: "balancer",
    summary: "Render proposed rules and diff them against the live config; changes nothing (the engine's own check runs for operators)",
    access: "viewer",
    body: rulesPreviewBody,
    responses: { 200: json("The preview", previewResultSchema) },
    errors: ["not_found", "conflict", "unsupported", "too_many_requests"],
  },
  {
    method: "GET",
    path: "/api/balancer/revisions",
    tag: "balancer",
    summary: "The last 50 revisions, newest first, each with its diffs",
    access: "viewer",
    responses: { 200: json("The revisions", z.object({ revisions: z.array(revisionListItemSchema) })) },
  },
  {
    method: "GET",
    path: "/api/balancer/revisions/{number}",
    tag: "balancer",
    summary: "One revision with its rendered config and model",
    access: "viewer",
    params: { number: revisionNumberSchema },
    responses: { 200: json("The revision", z.object({ revision: revisionDetailSchema })) },
    errors: ["not_found"],
  },
  {
    method: "POST",
    path: "/api/balancer/revisions/{number}/rollback",
    tag: "balancer",
    summary: "Re-apply an applied revision's rules (and listeners) with today's replicas, as a new revision",
    access: "operator",
    params: { number: revisionNumberSchema },
    responses: { 200: json("Applied as a new revision", applyResultSchema) },
    errors: ["not_found", "conflict", "unsupported", "engine_error"],
  },
  {
    method: "POST",
    path: "/api/routes/try",
    tag: "balancer",
    summary: "Which route and service a URL reaches, and the path its replica receives; changes nothing",
    access: "viewer",
    body: tryRequestSchema,
    responses: { 200: json("Where it goes", tryResultSchema) },
  },
  {
    method: "GET",
    path: "/api/listeners",
    tag: "listeners",
    summary: "The balancer's listeners (ports, http or https)",
    access: "viewer",
    responses: { 200: json("The listeners", z.object({ listeners: z.array(listenerSchema) })) },
  },
  {
    method: "POST",
    path: "/api/listeners",
    tag: "listeners",
    summary: "Add a listener (applied as a new revision)",
    access: "operator",
    body: createListenerSchema,
    responses: { 201: json("Added", listenersApplyResultSchema) },
    errors: ["conflict", "not_found", "unsupported", "engine_error"],
  },
  {
    method: "PATCH",
    path: "/api/listeners/{id}",
    tag: "listeners",
    summary: "Change a listener (by id or name)",
    access: "operator",
    params: { id: listenerIdParamSchema },
    body: updateListenerSchema,
    responses: { 200: json("Changed", listenersApplyResultSchema) },
    errors: ["not_found", "conflict", "unsupported", "engine_error"],
  },
  {
    method: "DELETE",
    path: "/api/listeners/{id}",
    tag: "listeners",
    summary: "Delete a listener (not the default one, nor one a route names)",
    access: "operator",
    params: { id: listenerIdParamSchema },
    responses: { 200: json("Deleted", listenersApplyResultSchema) },
    errors: ["not_found", "conflict", "unsupported", "engine_error"],
  },
  {
    method: "GET",
    path: "/api/certificates",
    tag: "certificates",
    summary: "TLS certificates: public facts only, never a key",
    access: "viewer",
    responses: { 200: json("The certificates", z.object({ certificates: z.array(certificateViewSchema) })) },
  },
  {
    method: "POST",
    path: "/api/certificates",
    tag: "certificates",
    summary: "Upload a certificate (PEM chain and key) or have the panel's local CA issue one for host names",
    access: "admin",
    body: createCertificateSchema,
    responses: { 201: json("Added", z.object({ certificate: certificateViewSchema })) },
  },
  {
    method: "DELETE",
    path: "/api/certificates/{id}",
    tag: "certificates",
    summary: "Delete a certificate no listener uses",
    access: "admin",
    params: { id: certificateIdSchema },
    responses: { 200: json("Deleted", ok) },
    errors: ["not_found", "conflict"],
  },
  {
    method: "GET",
    path: "/api/certificates/ca",
    tag: "certificates",
    summary: "The local CA's root certificate (PEM), once an admin generated a certificate",
    access: "viewer",
    responses: { 200: { description: "The root certificate", contentType: "application/x-pem-file" } },
    errors: ["not_found"],
  },

  // ---------------------------------------------------------------- events, settings, users
  {
    method: "GET",
    path: "/api/events",
    tag: "events",
    summary: "One page of the audit log, newest first, filtered by kind, service, actor or text",
    access: "viewer",
    query: eventQuerySchema,
    responses: { 200: json("The page", eventPageSchema) },
  },
  {
    method: "GET",
    path: "/api/settings/allow-list",
    tag: "settings",
    summary: "The images and commands operators may run (viewers do not see it: it lists commands)",
    access: "operator",
    responses: { 200: json("The allow-list", z.object({ allowList: allowListSchema })) },
  },
  {
    method: "PUT",
    path: "/api/settings/allow-list",
    tag: "settings",
    summary: "Replace the allow-list",
    access: "admin",
    body: allowListSchema,
    responses: { 200: json("The allow-list as stored", z.object({ allowList: allowListSchema })) },
  },
  {
    method: "GET",
    path: "/api/settings/metrics-tokens",
    tag: "metrics",
    summary: "The bearer tokens of GET /metrics (names and last use; never a token itself)",
    access: "admin",
    responses: { 200: json("The tokens", z.object({ tokens: z.array(metricsTokenViewSchema) })) },
  },
  {
    method: "POST",
    path: "/api/settings/metrics-tokens",
    tag: "metrics",
    summary: "Create a metrics token: the answer is the only time the token itself is seen",
    access: "admin",
    body: createMetricsTokenSchema,
    responses: { 201: json("Created", z.object({ token: z.string(), metricsToken: metricsTokenViewSchema })) },
    errors: ["conflict"],
  },
  {
    method: "DELETE",
    path: "/api/settings/metrics-tokens/{id}",
    tag: "metrics",
    summary: "Revoke a metrics token",
    access: "admin",
    params: { id: z.string() },
    responses: { 200: json("Revoked", ok) },
    errors: ["not_found"],
  },
  {
    method: "GET",
    path: "/metrics",
    tag: "metrics",
    summary: "Prometheus metrics (text exposition format) for Prometheus: a bearer token from Settings → Prometheus, not a session",
    access: "metrics-token",
    responses: { 200: { description: "The metrics", contentType: "text/plain" } },
    errors: ["unauthorized"],
  },
  {
    method: "GET",
    path: "/api/alerts",
    tag: "alerts",
    summary: "Alert rules, the webhook (never its secret, only whether there is one) and the alerts firing now",
    access: "viewer",
    responses: { 200: json("The alerts", z.object({ alerts: alertSettingsViewSchema })) },
  },
  {
    method: "PUT",
    path: "/api/alerts",
    tag: "alerts",
    summary: "Replace the alert rules and the webhook (a secret left out is kept)",
    access: "admin",
    body: alertSettingsSchema,
    responses: { 200: json("The alerts as saved", z.object({ alerts: alertSettingsViewSchema })) },
  },
  {
    method: "GET",
    path: "/api/users",
    tag: "users",
    summary: "Every user",
    access: "admin",
    responses: { 200: json("The users", z.object({ users: z.array(userViewSchema) })) },
  },
  {
    method: "POST",
    path: "/api/users",
    tag: "users",
    summary: "Create a user with a role",
    access: "admin",
    body: createUserSchema,
    responses: { 201: json("Created", z.object({ user: userViewSchema })) },
    errors: ["conflict"],
  },
  {
    method: "PATCH",
    path: "/api/users/{id}",
    tag: "users",
    summary: "Change a user's role or password",
    access: "admin",
    params: { id: z.string() },
    body: updateUserSchema,
    responses: { 200: json("Changed", z.object({ user: userViewSchema })) },
    errors: ["not_found", "conflict"],
  },
  {
    method: "DELETE",
    path: "/api/users/{id}",
    tag: "users",
    summary: "Delete a user (not the last admin, not yourself)",
    access: "admin",
    params: { id: z.string() },
    responses: { 200: json("Deleted", ok) },
    errors: ["not_found", "conflict"],
  },
];
