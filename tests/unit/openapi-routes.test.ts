import fs from "node:fs";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "@/lib/openapi/document";

/**
 * The OpenAPI document covers every route: each route.ts under app/ (app/api and any
 * other API-like route, e.g. /metrics) is read, its exported HTTP methods found, and
 * each must be in the document with the access its wrapper asks for (route("operator",
 * …) -> operator, publicRoute -> public, a plain function -> public). A route added
 * without a document entry (lib/openapi/operations.ts) fails here; so does an entry
 * whose route is gone. Every schema in the document compiles as JSON Schema 2020-12.
 */
const ROOT = path.resolve(__dirname, "..", "..");
const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];

function routeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...routeFiles(p));
    else if (/^route\.(ts|tsx|js)$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** app/api/users/[id]/route.ts -> /api/users/{id}; route groups "(panel)" are not part of the path. */
function urlPathOf(file: string): string {
  const rel = path.relative(path.join(ROOT, "app"), path.dirname(file)).split(path.sep);
  const parts = rel.filter((s) => s && !/^\(.*\)$/.test(s)).map((s) => s.replace(/^\[(.+)\]$/, "{$1}"));
  return `/${parts.join("/")}`;
}

/** Each exported method and the access its handler asks for, read from the source. */
function handlersOf(file: string): { method: string; access: string }[] {
  const src = fs.readFileSync(file, "utf8");
  const out: { method: string; access: string }[] = [];
  for (const m of METHODS) {
    const asConst = new RegExp(`export const ${m}\\s*=\\s*([^;]*)`).exec(src);
    const asFunction = new RegExp(`export (async )?function ${m}\\b`).exec(src);
    if (!asConst && !asFunction) continue;
    let access = "public"; // a plain function: no session check (and no contract check: use plainRoute)
    if (asConst) {
      const init = asConst[1];
      const role = /\broute(?:<[^>]*>)?\(\s*"(viewer|operator|admin)"/.exec(init);
      const named = /\b(\w+)\(/.exec(init);
      if (role) access = role[1];
      else if (/\bpublicRoute\b/.test(init)) access = "public";
      else if (/\bplainRoute\b/.test(init)) access = "public"; // checks its caller itself, or none
      else access = `unknown wrapper ${named?.[1] ?? init.slice(0, 40)} (teach this test what it asks for)`;
    }
    out.push({ method: m, access });
  }
  return out;
}

describe("OpenAPI document", () => {
  const doc = buildOpenApiDocument("test");
  const files = routeFiles(path.join(ROOT, "app"));

  it("lists every exported handler under app/ with the access its route asks for", () => {
    const problems: string[] = [];
    let count = 0;
    for (const file of files) {
      const p = urlPathOf(file);
      for (const h of handlersOf(file)) {
        count++;
        const op = doc.paths[p]?.[h.method.toLowerCase()];
        if (!op) problems.push(`${h.method} ${p} (${path.relative(ROOT, file)}) is not in the document: add it to lib/openapi/operations.ts`);
        // a plain function checks no session: public, or a bearer token it checks itself (GET /metrics)
        else if (op["x-switchyard-access"] !== h.access && !(h.access === "public" && op["x-switchyard-access"] === "metrics-token")) problems.push(`${h.method} ${p}: the document says ${op["x-switchyard-access"]}, the route asks for ${h.access}`);
      }
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(30);
    console.log(`openapi: ${count} handlers in ${files.length} route files, all in the document`);
  });

  it("has no operation without a handler", () => {
    const handlers = new Set(files.flatMap((f) => handlersOf(f).map((h) => `${h.method} ${urlPathOf(f)}`)));
    const stale = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).filter((k) => !handlers.has(k));
    expect(stale).toEqual([]);
  });

  it("names each path parameter once, as the path has it, and gives every operation its errors", () => {
    const problems: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [m, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? []).filter((x) => x.in === "path").map((x) => x.name).sort();
        if (JSON.stringify(declared) !== JSON.stringify(inPath)) problems.push(`${m} ${p}: path parameters ${declared} != ${inPath}`);
        if (!op.responses["500"]) problems.push(`${m} ${p}: no 500`);
        if (op["x-switchyard-access"] !== "public" && !op.responses["401"]) problems.push(`${m} ${p}: no 401`);
        if (m !== "get" && !op.responses["421"]) problems.push(`${m} ${p}: no 421 (a mutation's Host check)`);
        if (new Set(Object.values(ops).map((o) => o.operationId)).size !== Object.keys(ops).length) problems.push(`${p}: operationIds repeat`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("is JSON Schema 2020-12 throughout (every schema compiles)", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: "doc", components: doc.components } as object);
    const failures: string[] = [];
    const tryCompile = (where: string, schema: object) => {
      try {
        ajv.compile({ $id: `check${failures.length}-${Math.random()}`, ...JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) });
      } catch (e) {
        failures.push(`${where}: ${(e as Error).message}`);
      }
    };
    for (const [name, schema] of Object.entries(doc.components.schemas)) tryCompile(`components.schemas.${name}`, schema);
    for (const [p, ops] of Object.entries(doc.paths)) for (const [m, op] of Object.entries(ops)) for (const x of op.parameters ?? []) tryCompile(`${m} ${p} ${x.name}`, x.schema);
    expect(failures).toEqual([]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc); // plain JSON, nothing lost on the way out
  }, 30_000); // compiling every schema takes a second or two, more on a busy machine
});
