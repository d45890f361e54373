import fs from "node:fs";
import path from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import { env } from "@/lib/env";
import { remember } from "@/lib/remember";
import type { JsonSchema, OpenApiDocument, OperationObject } from "@/lib/openapi/document";
import { openApiDocument } from "@/lib/openapi/serve";

/**
 * The contract check (tests only: SWITCHYARD_CONTRACT=1, which the test helpers set and
 * production never does). lib/http.ts hands every request and answer of the API here:
 *
 * - the operation is looked up in the document by method and path (none: a violation);
 * - the request's path parameters, query and JSON body are validated against it. A
 *   request outside the document may be refused (any 4xx), never accepted: an answer
 *   below 400 to it is a violation (the document would be stricter than the panel);
 * - the answer's status must be one the operation lists, its content type one listed
 *   for that status, and a JSON body must validate against that status's schema.
 *
 * A violation turns the answer into a 500 `{"error": {"code": "internal", "message":
 * "contract violation: GET /api/x …"}}` and is logged, so any test that meets it fails.
 * With SWITCHYARD_CONTRACT_LOG each checked request is appended to that file (JSON
 * lines: operation, status, whether the request was inside the document, the
 * violation), from which `npx tsx scripts/contract-coverage.ts` lists what the suites
 * exercised and what they never did.
 */

type Found = { key: string; template: string; op: OperationObject; params: Record<string, string> };

export type ContractRecord = { op: string; status: number; requestValid: boolean; requestProblem?: string; violation?: string };

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const BASE = "https://switchyard.invalid";

function compiler() {
  return remember("openapi-contract", () => {
    const doc = openApiDocument();
    // inlineRefs off: each component is compiled once and shared, not copied into every answer's validator
    const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false, inlineRefs: false });
    // absolute ids: a relative $ref resolves against the schema's own $id
    ajv.addSchema({ $id: `${BASE}/openapi.json`, components: doc.components } as object);
    const cache = new Map<string, ValidateFunction>();
    let compiled = 0;
    const validator = (key: string, schema: JsonSchema): ValidateFunction => {
      let v = cache.get(key);
      if (!v) {
        const text = JSON.stringify(schema).replaceAll('"#/components/', `"${BASE}/openapi.json#/components/`);
        v = ajv.compile({ $id: `${BASE}/check/${compiled++}`, ...(JSON.parse(text) as object) });
        cache.set(key, v);
      }
      return v;
    };
    // literal segments first: /api/certificates/ca before /api/certificates/{id}
    const templates = Object.keys(doc.paths)
      .map((t) => ({ t, parts: t.split("/") }))
      .sort((a, b) => b.parts.filter((p) => !p.startsWith("{")).length - a.parts.filter((p) => !p.startsWith("{")).length);
    return { doc, ajv, validator, templates };
  });
}

/**
 * Compile every validator now (about a second, once per process): a test calls this
 * before it starts load, so the first checked request does not stall the event loop
 * that also runs the test's load and the collector.
 */
export function warmContract(): number {
  const { doc, validator } = compiler();
  let n = 0;
  for (const [t, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const key = `${m.toUpperCase()} ${t}`;
      for (const p of op.parameters ?? []) validator(`${key} ${p.in} ${p.name}`, p.schema);
      const body = op.requestBody?.content["application/json"]?.schema;
      if (body) validator(`${key} body`, body);
      for (const [status, r] of Object.entries(op.responses)) {
        const schema = r.content?.["application/json"]?.schema;
        if (schema) validator(`${key} ${status}`, schema);
      }
      n++;
    }
  }
  return n;
}

function findOperation(doc: OpenApiDocument, templates: { t: string; parts: string[] }[], method: string, pathname: string): Found | null {
  const parts = pathname.split("/");
  for (const { t, parts: tp } of templates) {
    if (tp.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = tp.every((seg, i) => {
      if (seg.startsWith("{")) {
        try {
          params[seg.slice(1, -1)] = decodeURIComponent(parts[i]);
        } catch {
          params[seg.slice(1, -1)] = parts[i];
        }
        return parts[i] !== "";
      }
      return seg === parts[i];
    });
    const op = matches ? doc.paths[t][method.toLowerCase()] : undefined;
    if (op) return { key: `${method.toUpperCase()} ${t}`, template: t, op, params };
  }
  return null;
}

/**
 * A handler called with parameters its URL cannot show as they are (a test calling the
 * logs handler with id "../etc": the URL normalizes to /api/etc/logs): the operation
 * whose template, filled with the parameters, normalizes to the same path.
 */
function byParams(doc: OpenApiDocument, method: string, url: URL, params: Record<string, string>): Found | null {
  if (Object.keys(params).length === 0) return null;
  for (const [t, ops] of Object.entries(doc.paths)) {
    const op = ops[method];
    const names = [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    if (!op || names.length !== Object.keys(params).length || !names.every((n) => typeof params[n] === "string")) continue;
    const filled = t.replace(/\{(\w+)\}/g, (_m, n: string) => params[n]);
    if (new URL(filled, url.origin).pathname === url.pathname) return { key: `${method.toUpperCase()} ${t}`, template: t, op, params };
  }
  return null;
}

const errorsText = (v: ValidateFunction) =>
  (v.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || "(root)"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`)
    .join("; ");

/** A query or path value as the schema's type takes it (they arrive as text). */
function typed(value: string, schema: JsonSchema): unknown {
  const types = [schema.type].flat();
  if ((types.includes("number") || types.includes("integer")) && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  if (types.includes("boolean") && (value === "true" || value === "false")) return value === "true";
  return value;
}

/** What is wrong with the request by the document, or null. */
function requestProblem(found: Found, url: URL, bodyText: string | null): string | null {
  const { validator } = compiler();
  const { op } = found;
  for (const p of op.parameters ?? []) {
    const raw = p.in === "path" ? found.params[p.name] : url.searchParams.get(p.name);
    if (raw === null || raw === undefined) {
      if (p.required) return `${p.in} parameter ${p.name} is missing`;
      continue;
    }
    const v = validator(`${found.key} ${p.in} ${p.name}`, p.schema);
    if (!v(typed(raw, p.schema))) return `${p.in} parameter ${p.name}=${JSON.stringify(raw.slice(0, 60))}: ${errorsText(v)}`;
  }
  const known = new Set((op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name));
  for (const name of new Set(url.searchParams.keys())) if (!known.has(name)) return `query parameter ${name} is not in the document`;
  if (bodyText === null) return null; // not read (too large or unreadable): the panel refuses it itself
  const schema = op.requestBody?.content["application/json"]?.schema;
  const blank = bodyText.trim() === "" || bodyText.trim() === "{}";
  if (!schema) return blank ? null : "a body where the document has none";
  let json: unknown;
  try {
    json = bodyText.trim() === "" ? {} : JSON.parse(bodyText);
  } catch {
    return "the body is not JSON";
  }
  const v = validator(`${found.key} body`, schema);
  return v(json) ? null : `body: ${errorsText(v)}`;
}

/** What is wrong with the answer by the document, or null. */
async function responseProblem(found: Found, res: Response, requestValid: string | null): Promise<string | null> {
  const { validator } = compiler();
  const listed = found.op.responses[String(res.status)];
  if (!listed) return `answered ${res.status}, which the document does not list (it lists ${Object.keys(found.op.responses).join(", ")})`;
  if (requestValid !== null && res.status < 400) return `accepted (${res.status}) a request outside the document: ${requestValid}`;
  const type = (res.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const content = listed.content ?? {};
  if (!Object.hasOwn(content, type)) return `answered ${res.status} as ${type || "no content type"}; the document says ${Object.keys(content).join(" or ") || "no body"}`;
  const schema = content[type].schema;
  if (type !== "application/json" || schema.type === "string") return null; // a file (an export, a PEM), not an answer
  let json: unknown;
  try {
    json = JSON.parse(await res.clone().text());
  } catch {
    return `answered ${res.status} with a body that is not JSON`;
  }
  const v = validator(`${found.key} ${res.status}`, schema);
  return v(json) ? null : `answer ${res.status}: ${errorsText(v)}`;
}

function record(r: ContractRecord): void {
  const file = env().SWITCHYARD_CONTRACT_LOG;
  if (!file) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, `${JSON.stringify(r)}\n`);
  } catch (e) {
    console.error("[switchyard] contract log:", e);
  }
}

/** The answer, or a 500 naming the violation when the request and answer are outside the document. */
export async function checkContract(req: Request, bodyText: string | null, res: Response, params: Record<string, string> = {}): Promise<Response> {
  const url = new URL(req.url);
  const method = req.method.toLowerCase();
  const { doc, templates } = compiler();
  // all at once on the first request (a panel's first is a test's sign-in), not one by one in the middle of a test's load
  remember("openapi-contract-warm", warmContract);
  const found = (METHODS as readonly string[]).includes(method) ? (findOperation(doc, templates, method, url.pathname) ?? byParams(doc, method, url, params)) : null;
  let violation: string | null;
  let requestIssue: string | null = null;
  let key = `${req.method} ${url.pathname}`;
  if (!found) {
    violation = "no such operation in the OpenAPI document";
  } else {
    key = found.key;
    try {
      requestIssue = requestProblem(found, url, bodyText);
      violation = await responseProblem(found, res, requestIssue);
    } catch (e) {
      violation = `the check itself failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  record({ op: key, status: res.status, requestValid: requestIssue === null, ...(requestIssue ? { requestProblem: requestIssue } : {}), ...(violation ? { violation } : {}) });
  if (!violation) return res;
  const message = `contract violation: ${key} ${violation}`;
  console.error(`[switchyard] ${message}`);
  return Response.json({ error: { code: "internal", message, details: null } }, { status: 500 });
}
