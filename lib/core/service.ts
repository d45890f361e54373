import { z } from "zod";
import { DNS_LABEL, rulesSchema } from "@/lib/core/rules";

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

/** What runs a service's replicas (lib/runtime's RuntimeKind). */
export const runtimeKindSchema = z.enum(["process", "docker"]);

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
  })
  .strict()
  .refine((s) => s.dataPort !== s.adminPort, { message: "the data and admin ports must differ", path: ["adminPort"] });

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
  })
  .strict();

export type CreateServiceInput = z.infer<typeof createServiceSchema>;
export type UpdateServiceInput = z.infer<typeof updateServiceSchema>;

export const idParamSchema = z.string().regex(/^[a-z0-9]{1,40}$/, "an id");
