/**
 * Golden files: a renderer's output compared with a file committed under tests/fixtures/.
 * A missing golden file FAILS (a new case must be written on purpose and reviewed);
 * `UPDATE_GOLDEN=1` writes every golden file from the current output instead.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";

export const updateGolden = process.env.UPDATE_GOLDEN === "1";

export function expectGolden(file: string, rendered: string): void {
  if (updateGolden) writeFileSync(file, rendered);
  if (!existsSync(file)) {
    throw new Error(`golden file ${path.relative(process.cwd(), file)} is missing: write it with UPDATE_GOLDEN=1 npx vitest run --project unit, then review and commit it`);
  }
  expect(rendered).toBe(readFileSync(file, "utf8"));
}
