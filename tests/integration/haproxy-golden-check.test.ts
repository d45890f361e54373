/** Every HAProxy golden config (tests/fixtures/haproxy/*.cfg) passes `haproxy -c`. */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const fixtures = path.resolve(__dirname, "../fixtures/haproxy");
const goldens = readdirSync(fixtures).filter((f) => f.endsWith(".cfg"));

describe("haproxy golden configs", () => {
  it("has golden files", () => {
    expect(goldens.length).toBeGreaterThanOrEqual(6);
  });

  for (const file of goldens) {
    it(`haproxy -c accepts ${file}`, async () => {
      const { stdout } = await promisify(execFile)("haproxy", ["-c", "-f", path.join(fixtures, file)]);
      expect(stdout).toMatch(/Configuration file is valid/);
    });
  }
});
