/**
 * What the contract check saw (tests only): reads the JSON lines the panels and the
 * in-process route handlers of a test run appended under test-results/contract/
 * (SWITCHYARD_CONTRACT_LOG, lib/openapi/contract.ts) and prints, per operation of the
 * OpenAPI document, how many request/answer pairs were checked and with which statuses,
 * the violations, and the operations no suite exercised. Writes the same list to
 * test-results/contract/coverage.txt.
 *
 *   npx tsx scripts/contract-coverage.ts [log files…]
 */
import fs from "node:fs";
import path from "node:path";
import { buildOpenApiDocument } from "@/lib/openapi/document";
import type { ContractRecord } from "@/lib/openapi/contract";

const dir = path.join(process.cwd(), "test-results", "contract");
const files = process.argv.slice(2).length ? process.argv.slice(2) : fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl")).map((f) => path.join(dir, f)) : [];
const records: ContractRecord[] = files.flatMap((f) =>
  fs
    .readFileSync(f, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ContractRecord),
);

const doc = buildOpenApiDocument("coverage");
const ops = Object.entries(doc.paths).flatMap(([p, o]) => Object.keys(o).map((m) => `${m.toUpperCase()} ${p}`));
const lines: string[] = [];
const seen = new Map<string, ContractRecord[]>();
for (const r of records) seen.set(r.op, [...(seen.get(r.op) ?? []), r]);

lines.push(`${records.length} request/answer pairs checked (${files.length} log files), ${records.filter((r) => r.violation).length} violations`);
lines.push(`${ops.filter((o) => seen.has(o)).length} of ${ops.length} operations exercised`, "");
for (const op of ops) {
  const rs = seen.get(op) ?? [];
  const statuses = [...new Set(rs.map((r) => r.status))].sort().join(" ");
  lines.push(`${rs.length ? "  " : "- "}${op.padEnd(52)} ${String(rs.length).padStart(5)}  ${statuses}`);
}
const violations = records.filter((r) => r.violation);
if (violations.length) lines.push("", "violations:", ...[...new Set(violations.map((r) => `  ${r.op}: ${r.violation}`))]);
const unknown = [...seen.keys()].filter((k) => !ops.includes(k));
if (unknown.length) lines.push("", "not in the document:", ...unknown.map((k) => `  ${k}`));

const text = lines.join("\n");
console.log(text);
if (fs.existsSync(dir)) fs.writeFileSync(path.join(dir, "coverage.txt"), `${text}\n`);
