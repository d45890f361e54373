import { z } from "zod";
import { httpStatusOf, type AppErrorCode } from "@/lib/core/errors";
import { balancerConfigSchema, revisionViewSchema } from "@/lib/core/balancer-views";
import { eventSchema } from "@/lib/core/event-query";
import { certificateViewSchema, listenerSchema } from "@/lib/core/listeners";
import { serviceTickSchema, trafficStatusSchema } from "@/lib/core/metrics";
import { rulesSchema, rulesViewSchema } from "@/lib/core/rules";
import { replicaViewSchema, serviceViewSchema } from "@/lib/core/service";
import { sessionUserSchema, userViewSchema } from "@/lib/core/users";
import { operations, type Operation } from "@/lib/openapi/operations";

/**
 * The OpenAPI 3.1 document of the panel's API, generated from the operations table
 * (lib/openapi/operations.ts) and the zod schemas it names (z.toJSONSchema, JSON Schema
 * 2020-12, which OpenAPI 3.1 uses as is). Request schemas are the input side (defaults
 * make a field optional), response schemas the output side. Pure and deterministic:
 * GET /api/openapi.json serves it and the contract check validates against it.
 */

export type OpenApiDocument = {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
};

export type JsonSchema = Record<string, unknown>;

export type OperationObject = {
  operationId: string;
  summary: string;
  tags: string[];
  security: Record<string, string[]>[];
  "x-switchyard-access": string;
  parameters?: { name: string; in: "path" | "query"; required: boolean; schema: JsonSchema }[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
};

const isMutation = (m: string) => m !== "GET";

/** The error codes an operation may answer: its own, and those of every operation of its kind. */
export function errorCodesOf(op: Operation): AppErrorCode[] {
  const codes = new Set<AppErrorCode>(op.errors ?? []);
  codes.add("internal"); // an unexpected failure
  if (op.path !== "/api/health") codes.add("unavailable"); // the database is locked by another process
  if (op.access !== "public") {
    codes.add("unauthorized");
    codes.add("forbidden"); // a role below the one needed
  }
  if (isMutation(op.method)) {
    codes.add("misdirected"); // a Host that is not this panel's (DNS rebinding)
    codes.add("forbidden"); // a cross-origin or Origin-less mutation
  }
  if (op.body || isMutation(op.method)) {
    codes.add("bad_request"); // not JSON, or outside the schema
    codes.add("payload_too_large");
  }
  if (op.params || op.query) codes.add("bad_request");
  return [...codes].sort();
}

const operationId = (op: Operation) =>
  op.method.toLowerCase() +
  op.path
    .replace(/^\/api/, "")
    .split("/")
    .filter(Boolean)
    .map((s) => (s.startsWith("{") ? `By${s.slice(1, 2).toUpperCase()}${s.slice(2, -1)}` : s.replace(/(^|[-.])([a-z])/g, (_m, _p, c: string) => c.toUpperCase())))
    .join("");

/** The body of every error answer (lib/http.ts errorResponse), its code narrowed to those given. */
function errorSchema(codes: AppErrorCode[]): JsonSchema {
  return {
    type: "object",
    properties: {
      error: {
        type: "object",
        properties: {
          code: { type: "string", enum: codes },
          message: { type: "string" },
          details: {},
        },
        required: ["code", "message", "details"],
        additionalProperties: false,
      },
    },
    required: ["error"],
    additionalProperties: false,
  };
}

const ERROR_TEXT: Record<number, string> = {
  400: "Bad request: the body, a parameter or the query is outside the schema (details lists the fields), or the use case refused the value",
  401: "Not signed in (no session, or it expired)",
  403: "Forbidden: a role below the one needed, or a cross-origin / Origin-less mutation",
  404: "Not found",
  409: "Conflict with the current state (route_shadowed: a route no request could reach; apply with force)",
  413: "The request body is larger than 256 KB",
  421: "Misdirected: the Host header names no name of this panel",
  422: "The engine or runtime refused (unsupported option, engine check failed)",
  429: "Too many requests (Retry-After says when to try again)",
  500: "Internal error",
  502: "The runtime or the replica failed",
  503: "Unavailable (the database is busy: Retry-After)",
};

/** Zod schemas to JSON Schemas, shared sub-schemas named once under components. */
function convert(schemas: Map<string, { schema: z.ZodType; io: "input" | "output" }>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const io of ["input", "output"] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [name, s] of schemas) if (s.io === io) registry.add(s.schema, { id: name });
    const { schemas: converted } = z.toJSONSchema(registry, { io, unrepresentable: "any", uri: (name) => `#/components/schemas/${name}` });
    for (const [name, schema] of Object.entries(converted)) {
      const { $schema: _s, $id: _i, ...rest } = schema as JsonSchema;
      out[name] = rest;
    }
  }
  return out;
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** Schemas many answers hold, named once under components (answers: output side; requests: input side). */
const SHARED: { name: string; schema: z.ZodType; io: "input" | "output" }[] = [
  { name: "Rules", schema: rulesViewSchema, io: "output" },
  { name: "RulesInput", schema: rulesSchema, io: "input" },
  { name: "Service", schema: serviceViewSchema, io: "output" },
  { name: "Replica", schema: replicaViewSchema, io: "output" },
  { name: "Revision", schema: revisionViewSchema, io: "output" },
  { name: "BalancerConfig", schema: balancerConfigSchema, io: "output" },
  { name: "Listener", schema: listenerSchema, io: "output" },
  { name: "Certificate", schema: certificateViewSchema, io: "output" },
  { name: "Event", schema: eventSchema, io: "output" },
  { name: "TrafficStatus", schema: trafficStatusSchema, io: "output" },
  { name: "ServiceTick", schema: serviceTickSchema, io: "output" },
  { name: "SessionUser", schema: sessionUserSchema, io: "output" },
  { name: "User", schema: userViewSchema, io: "output" },
];

export function buildOpenApiDocument(version: string): OpenApiDocument {
  const named = new Map<string, { schema: z.ZodType; io: "input" | "output" }>(SHARED.map((s) => [s.name, s]));
  // the same zod schema answered by two operations (allow-list GET and PUT) is converted once
  const nameOf = { input: new Map<z.ZodType, string>(), output: new Map<z.ZodType, string>() };
  for (const s of SHARED) nameOf[s.io].set(s.schema, s.name);
  const component = (schema: z.ZodType, io: "input" | "output", name: string): JsonSchema => {
    const known = nameOf[io].get(schema);
    if (known) return ref(known);
    named.set(name, { schema, io });
    nameOf[io].set(schema, name);
    return ref(name);
  };

  const paths: OpenApiDocument["paths"] = {};
  const errorSchemas: Record<string, JsonSchema> = {};
  for (const op of operations) {
    const id = operationId(op);
    const o: OperationObject = {
      operationId: id,
      summary: op.summary,
      tags: [op.tag],
      security: op.access === "public" ? [] : op.access === "metrics-token" ? [{ metricsToken: [] }] : [{ session: [] }],
      "x-switchyard-access": op.access,
      responses: {},
    };
    const params: NonNullable<OperationObject["parameters"]> = [];
    for (const [name, schema] of Object.entries(op.params ?? {})) params.push({ name, in: "path", required: true, schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) });
    if (op.query) {
      const q = z.toJSONSchema(op.query, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) params.push({ name, in: "query", required: (q.required ?? []).includes(name), schema });
    }
    for (const p of params) delete p.schema.$schema;
    if (params.length) o.parameters = params;
    if (op.body) o.requestBody = { required: true, content: { "application/json": { schema: component(op.body, "input", `${id}Request`) } } };
    for (const [status, r] of Object.entries(op.responses)) {
      o.responses[status] = r.schema
        ? { description: r.description, content: { "application/json": { schema: component(r.schema, "output", `${id}Response`) } } }
        : { description: r.description, content: Object.fromEntries([r.contentType ?? "text/plain"].flat().map((t) => [t, { schema: { type: "string" } }])) };
    }
    const byStatus = new Map<number, AppErrorCode[]>();
    for (const code of errorCodesOf(op)) byStatus.set(httpStatusOf[code], [...(byStatus.get(httpStatusOf[code]) ?? []), code]);
    for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      if (o.responses[String(status)]) continue; // the operation describes this answer itself (the docs page's 401)
      const name = `Error_${codes.join("_")}`;
      errorSchemas[name] ??= errorSchema(codes);
      o.responses[String(status)] = { description: `${ERROR_TEXT[status] ?? "Error"} (${codes.join(", ")})`, content: { "application/json": { schema: ref(name) } } };
    }
    (paths[op.path] ??= {})[op.method.toLowerCase()] = o;
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "Switchyard API",
      version,
      description: [
        "The control panel's HTTP API: services and replicas, balancer rules and revisions, listeners and certificates, events, users.",
        "",
        "**Authentication.** Sign in with `POST /api/auth/login` (`{\"username\", \"password\"}`); the answer sets the `sy_session` cookie",
        "(HttpOnly, SameSite=Lax), which every other operation needs. Each operation's `x-switchyard-access` names the role it needs",
        "(viewer < operator < admin); a lower role gets 403. Mutations (POST, PUT, PATCH, DELETE) must carry an `Origin` (or `Referer`)",
        "of the panel itself and a `Host` that names it: others get 403 or 421. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`",
        "with the HTTP status of the code (lib/core/errors.ts).",
      ].join("\n"),
    },
    servers: [{ url: "/" }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...convert(named), ...errorSchemas },
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "sy_session", description: "The session cookie POST /api/auth/login sets" },
        metricsToken: { type: "http", scheme: "bearer", description: "A metrics token an admin creates in Settings (for Prometheus)" },
      },
    },
  };
}
