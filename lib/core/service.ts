import { z } from "zod";
import { DNS_LABEL, rulesSchema, rulesViewSchema } from "@/lib/core/rules";

/** Service fields as the API and forms accept them (one schema for both). */

const ENV_KEY = /^[A-Z_][A-Z0-9_]{0,63}$/;
const RESERVED_ENV = ["PORT", "ADMIN_PORT", "ADMIN_TOKEN", "REPLICA_ID", "SERVICE_NAME", "BIND_HOST", "MEMORY_LIMIT_MB", "MEMORY_THRESHOLD_PERCENT"];

export const serviceNameSchema = z.string().max(40).regex(DNS_LABEL, "a DNS label: lower-case letters, digits and '-', starting with a letter");

export const envSchema = z
  .record(z.string().regex(ENV_KEY, "environment names: upper-case letters, digits, '_'"), z.string().max(4096).regex(/^[^\0\n\r]*$/, "no newlines"))
  .refine((e) => Object.keys(e).length <= 50, "at most 50 variables")
  .refine((e) => !Object.keys(e).some((k) => RESERVED_ENV.includes(k)), `these are set by Switchyard: ${RESERVED_ENV.join(", ")}`);

export const imageSchema = z.string().max(200).regex(/^[a-z0-9][a-z0-9._/:@-]{0,199}$/, "an image reference such as switchyard/replica:latest");
export const commandSchema = z.array(z.string().min(1).max(1000).regex(/^[^\0]*$/)).min(1).max(50);

const replicasField = z.number().int().min(0).max(200);

/**
 * A service's own actions (issue 14): requests the panel sends to one instance's own
 * data or admin port, never through the balancer (e.g. Stress -> POST /api/stress).
 * The address is always the instance's: a path carries no scheme, no host, no "//",
 * no backslash and no control character. Every pattern here is a single character
 * class (no nesting, nothing to backtrack on).
 */
export const ACTION_LIMITS = { actions: 16, nameChars: 32, pathChars: 512, bodyBytes: 8192 } as const;
export const ACTION_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const ACTION_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$/;
/** "/" then URL path and query characters (RFC 3986 pchar, "/" and "?"), no "\\", no space, no control character. */
const ACTION_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]{0,511}$/;

export const actionPathSchema = z
  .string()
  .max(ACTION_LIMITS.pathChars, `at most ${ACTION_LIMITS.pathChars} characters`)
  .regex(ACTION_PATH, "a path on the instance, starting with '/' (no scheme, host, spaces, backslashes or control characters)")
  .refine((p) => !p.startsWith("//") && !p.split("?")[0].includes("//"), "no '//' (a path, never a host)")
  .refine((p) => !/%(?:0|1|7f|5c|2f)/i.test(p), "no encoded control characters, '\\' or '/'");

const actionBodySchema = z.union([
  z.string().max(ACTION_LIMITS.bodyBytes, `a body of at most ${ACTION_LIMITS.bodyBytes} characters`),
  z.record(z.string(), z.unknown()).refine((o) => JSON.stringify(o).length <= ACTION_LIMITS.bodyBytes, `a JSON body of at most ${ACTION_LIMITS.bodyBytes} characters`),
]);

export const serviceActionSchema = z
  .object({
    name: z.string().regex(ACTION_NAME, `a short label: letters, digits, space, '.', '_' or '-' (at most ${ACTION_LIMITS.nameChars})`),
    method: z.enum(ACTION_METHODS),
    path: actionPathSchema,
    port: z.enum(["data", "admin"]).default("data"),
    body: actionBodySchema.optional(),
    confirm: z.boolean().optional(),
  })
  .strict()
  .refine((a) => a.body === undefined || (a.method !== "GET" && a.method !== "DELETE"), { message: "GET and DELETE send no body", path: ["body"] });

export const serviceActionsSchema = z
  .array(serviceActionSchema)
  .max(ACTION_LIMITS.actions, `at most ${ACTION_LIMITS.actions} actions`)
  .refine((list) => new Set(list.map((a) => a.name.toLowerCase())).size === list.length, "action names must differ");

export type ServiceAction = z.infer<typeof serviceActionSchema>;
export type ServiceActionInput = z.input<typeof serviceActionSchema>;

/** Where a replica's /health turns 503: this share of its memory limit, in whole percent. */
export const MEMORY_THRESHOLD = { min: 10, max: 99, default: 80 } as const;
export const memoryThresholdSchema = z
  .number()
  .int("a whole number of percent")
  .min(MEMORY_THRESHOLD.min, `at least ${MEMORY_THRESHOLD.min} %`)
  .max(MEMORY_THRESHOLD.max, `at most ${MEMORY_THRESHOLD.max} %`);

/**
 * What runs a service's replicas (lib/runtime's RuntimeKind); "external": instances given by address, none started;
 * "swarm" (experimental, admins only): the tasks of a Swarm service on SWARM_MANAGER, scaled as one
 * (lib/controller/cluster-sync.ts), behind a balancer on the Swarm overlay;
 * "kubernetes" (experimental, admins only): the pods of a Deployment through KUBERNETES_API, scaled
 * as one the same way; no balancer of the panel's in front of them yet (README, Kubernetes).
 */
export const runtimeKindSchema = z.enum(["process", "docker", "external", "swarm", "kubernetes"]);

/** The runtimes a cluster runs as one object (a Swarm service, a Deployment) whose count the panel sets (lib/runtime/cluster.ts). */
export type ClusterRuntimeKind = "swarm" | "kubernetes";

/** Whether a runtime is a cluster's: the controller's service-level path drives it, the panel's engine never holds its members. */
export function isClusterRuntime(runtime: string): runtime is ClusterRuntimeKind {
  return runtime === "swarm" || runtime === "kubernetes";
}

/**
 * External endpoints (issue 14, item 3): "host:port" where host is a DNS name, an IPv4
 * address or a bracketed IPv6 address; no scheme, no path, no user. They are rendered
 * into engine configs, so every character is checked here, by plain functions (no
 * regex with nested repetition).
 */
export const ENDPOINT_LIMITS = { endpoints: 64, chars: 260 } as const;
const LABEL_CHARS = /^[a-z0-9-]{1,63}$/;
const DIGITS = /^[0-9]{1,5}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

function isDnsName(host: string): boolean {
  if (host.length < 1 || host.length > 253) return false;
  const labels = host.split(".");
  // a name of digits and dots only is an IPv4 address or nothing
  if (labels.every((l) => /^[0-9]+$/.test(l))) return false;
  return labels.every((l) => LABEL_CHARS.test(l) && !l.startsWith("-") && !l.endsWith("-"));
}

export function isIPv4(host: string): boolean {
  const parts = host.split(".");
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255 && (p === "0" || !p.startsWith("0")));
}

export function isIPv6(host: string): boolean {
  if (host.length < 2 || host.length > 45) return false;
  const halves = host.split("::");
  if (halves.length > 2) return false;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  let count = all.length;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes(".")) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1; // an embedded IPv4 address fills two groups
  }
  if (!all.every((g) => HEX_GROUP.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

export type Endpoint = { host: string; port: number };

/** "host:port" → its parts (host lower-cased, IPv6 without brackets), or why it is refused. */
export function parseEndpoint(text: string): { ok: true; endpoint: Endpoint } | { ok: false; reason: string } {
  if (text.length > ENDPOINT_LIMITS.chars) return { ok: false, reason: `at most ${ENDPOINT_LIMITS.chars} characters` };
  if (text.includes("://") || text.includes("/")) return { ok: false, reason: "host:port only: no scheme and no path" };
  let host: string;
  let port: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return { ok: false, reason: "an IPv6 address in brackets, then ':' and a port, e.g. [::1]:8080" };
    host = text.slice(1, close).toLowerCase();
    port = text.slice(close + 2);
    if (!isIPv6(host)) return { ok: false, reason: `${JSON.stringify(host)} is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(":");
    if (colon <= 0) return { ok: false, reason: "host:port, e.g. 10.0.0.5:8080 or api.internal:8080" };
    host = text.slice(0, colon).toLowerCase();
    port = text.slice(colon + 1);
    if (host.includes(":")) return { ok: false, reason: "an IPv6 address goes in brackets: [::1]:8080" };
    if (!isIPv4(host) && !isDnsName(host)) return { ok: false, reason: `${JSON.stringify(host)} is not a host name or an IPv4 address` };
  }
  if (!DIGITS.test(port) || Number(port) < 1 || Number(port) > 65535) return { ok: false, reason: "a port from 1 to 65535" };
  return { ok: true, endpoint: { host, port: Number(port) } };
}

/** The one spelling an endpoint is stored and compared in. */
export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export const endpointSchema = z
  .string()
  .trim()
  .max(ENDPOINT_LIMITS.chars)
  .transform((text, ctx) => {
    const parsed = parseEndpoint(text);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: `${JSON.stringify(text.slice(0, 60))}: ${parsed.reason}` });
      return z.NEVER;
    }
    return formatEndpoint(parsed.endpoint);
  });

export const endpointsSchema = z
  .array(endpointSchema)
  .min(1, "at least one endpoint")
  .max(ENDPOINT_LIMITS.endpoints, `at most ${ENDPOINT_LIMITS.endpoints} endpoints`)
  .refine((list) => new Set(list).size === list.length, "each endpoint once");

/**
 * Docker discovery: adopt running containers by a label ("key" or "key=value") or by
 * compose project and service (com.docker.compose.project / .service). The values go
 * into an Engine API filter, never into a config, and are still held to label characters.
 */
export const COMPOSE_PROJECT_LABEL = "com.docker.compose.project";
export const COMPOSE_SERVICE_LABEL = "com.docker.compose.service";
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
const LABEL_VALUE = /^[A-Za-z0-9._/:@-]{0,255}$/;
const COMPOSE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export const discoverSchema = z.union([
  z
    .object({
      label: z
        .string()
        .max(384)
        .refine((l) => {
          const eq = l.indexOf("=");
          const key = eq < 0 ? l : l.slice(0, eq);
          return LABEL_KEY.test(key) && (eq < 0 || LABEL_VALUE.test(l.slice(eq + 1)));
        }, "a label 'key' or 'key=value' (letters, digits, '.', '_', '/', '-'; values also ':' and '@')"),
    })
    .strict(),
  z
    .object({
      project: z.string().regex(COMPOSE_NAME, "a compose project name: lower-case letters, digits, '_', '.', '-'"),
      service: z.string().regex(COMPOSE_NAME, "a compose service name: lower-case letters, digits, '_', '.', '-'").optional(),
    })
    .strict(),
]);
export type Discover = z.infer<typeof discoverSchema>;

/** The Engine API label filters a discovery asks for (all must match). */
export function discoverLabels(d: Discover): string[] {
  if ("label" in d) return [d.label];
  return [`${COMPOSE_PROJECT_LABEL}=${d.project}`, ...(d.service ? [`${COMPOSE_SERVICE_LABEL}=${d.service}`] : [])];
}

/** In words, for the service page: where a service's instances come from. */
export function describeDiscover(d: Discover): string {
  return "label" in d ? `label ${d.label}` : `compose project ${d.project}${d.service ? `, service ${d.service}` : ""}`;
}

/** Where a service's instances come from when the panel does not start them. */
export type InstanceSource = { kind: "external"; endpoints: string[] } | { kind: "discover"; discover: Discover; dataPort: number };

export const createServiceSchema = z
  .object({
    name: serviceNameSchema,
    runtime: runtimeKindSchema.optional(),
    image: imageSchema.nullable().optional(),
    command: commandSchema.nullable().optional(),
    dataPort: z.number().int().min(1).max(65535).default(8000),
    adminPort: z.number().int().min(1).max(65535).default(9000),
    env: envSchema.default({}),
    memoryLimitMb: z.number().int().min(32).max(65536).default(256),
    /** absent: MEMORY_THRESHOLD.default (the use case fills it in) */
    memoryThresholdPercent: memoryThresholdSchema.optional(),
    cpuLimit: z.number().min(0.05).max(64).nullable().default(null),
    replicas: replicasField.default(1),
    minReplicas: replicasField.default(0),
    maxReplicas: replicasField.optional(),
    rules: rulesSchema.optional(),
    /** the app's own actions per instance (buttons on each replica card) */
    actions: serviceActionsSchema.optional(),
    /** docker: keep an image's root user (admins only, lib/core/run-policy.ts) */
    allowRoot: z.boolean().optional(),
    /** runtime "external": the instances' addresses */
    endpoints: endpointsSchema.optional(),
    /** runtime "docker": adopt running containers that match instead of starting any */
    discover: discoverSchema.optional(),
    /** the app speaks Switchyard's replica protocol; absent: true for the bundled replica app, false for a user's own image or command */
    replicaProtocol: z.boolean().optional(),
  })
  .strict()
  .refine((s) => s.dataPort !== s.adminPort, { message: "the data and admin ports must differ", path: ["adminPort"] })
  .superRefine((s, ctx) => {
    if (s.runtime === "external") {
      if (!s.endpoints) ctx.addIssue({ code: "custom", message: "an external service needs its endpoints", path: ["endpoints"] });
      if (s.image || s.command) ctx.addIssue({ code: "custom", message: "an external service runs nothing: no image or command", path: [s.image ? "image" : "command"] });
      if (s.discover) ctx.addIssue({ code: "custom", message: "discovery is for the docker runtime", path: ["discover"] });
    } else if (s.endpoints) ctx.addIssue({ code: "custom", message: 'endpoints are for runtime "external"', path: ["endpoints"] });
    if (s.discover && s.runtime !== "docker") ctx.addIssue({ code: "custom", message: 'discovery needs runtime "docker"', path: ["discover"] });
    if (s.discover && (s.image || s.command)) ctx.addIssue({ code: "custom", message: "a discovering service starts nothing: no image or command", path: [s.image ? "image" : "command"] });
  });

export const updateServiceSchema = z
  .object({
    replicas: replicasField.optional(),
    image: imageSchema.nullable().optional(),
    command: commandSchema.nullable().optional(),
    env: envSchema.optional(),
    memoryLimitMb: z.number().int().min(32).max(65536).optional(),
    memoryThresholdPercent: memoryThresholdSchema.optional(),
    cpuLimit: z.number().min(0.05).max(64).nullable().optional(),
    minReplicas: replicasField.optional(),
    maxReplicas: replicasField.optional(),
    allowRoot: z.boolean().optional(),
    actions: serviceActionsSchema.optional(),
    /** external services: the new list (added ones join, removed ones are drained out) */
    endpoints: endpointsSchema.optional(),
    /** discovering services: a new selector */
    discover: discoverSchema.optional(),
    replicaProtocol: z.boolean().optional(),
  })
  .strict();

/**
 * Does a new service's app speak Switchyard's replica protocol (docs/replica-protocol.md)?
 * The bundled replica app does (no command, and no image or the panel's replica image);
 * a user's own image or command is not assumed to.
 */
export function speaksReplicaProtocol(run: { image: string | null; command: string[] | null }, replicaImage: string): boolean {
  return !run.command && (!run.image || run.image === replicaImage);
}

export type CreateServiceInput = z.infer<typeof createServiceSchema>;
export type UpdateServiceInput = z.infer<typeof updateServiceSchema>;

export const idParamSchema = z.string().regex(/^[a-z0-9]{1,40}$/, "an id");

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

/** A replica as the API shows it (lib/services/views.ts ReplicaView; a viewer's has runtimeRef null). */
export const replicaViewSchema = z.object({
  id: z.string(),
  serviceId: z.string(),
  state: z.string(),
  health: z.string(),
  healthReason: z.string().nullable(),
  dataAddr: z.string().nullable(),
  adminAddr: z.string().nullable(),
  runtime: z.string(),
  runtimeRef: z.string().nullable(),
  adminState: z.string(),
  weight: z.number(),
  inEngine: z.boolean(),
  startedAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** the faults the panel holds on it now (pause, runtime-stress, network-fault), each until expiresAt */
  faults: z.array(z.object({ id: z.string(), kind: z.string(), params: z.unknown(), startedAt: z.string(), expiresAt: z.string() })).optional(),
});

/** A service as the API shows it (lib/services/views.ts ServiceView); a viewer's is `redacted`: env values empty, command null, actions without bodies. */
export const serviceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  runtime: z.string(),
  image: z.string().nullable(),
  command: z.array(z.string()).nullable(),
  dataPort: z.number().int(),
  adminPort: z.number().int(),
  env: z.record(z.string(), z.string()),
  memoryLimitMb: z.number(),
  memoryThresholdPercent: z.number(),
  cpuLimit: z.number().nullable(),
  replicas: z.number().int(),
  minReplicas: z.number().int(),
  maxReplicas: z.number().int(),
  rules: rulesViewSchema,
  allowRoot: z.boolean(),
  actions: z.array(
    z.object({
      name: z.string(),
      method: z.enum(ACTION_METHODS),
      path: z.string(),
      port: z.enum(["data", "admin"]),
      body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
      confirm: z.boolean().optional(),
    }),
  ),
  /** runtime "external": the instances' addresses; else null */
  endpoints: z.array(z.string()).nullable(),
  /** runtime "docker" discovering running containers by labels; else null */
  discover: discoverSchema.nullable(),
  /** the app speaks Switchyard's replica protocol (docs/replica-protocol.md) */
  replicaProtocol: z.boolean(),
  redacted: z.boolean(),
  createdAt: z.string(),
  instances: z.array(replicaViewSchema),
});

/** GET /api/replicas/:id/logs?lines=: how many of the last lines. */
export const replicaLogsQuerySchema = z.object({ lines: z.coerce.number().int().min(1).max(2000).default(200) });
