/** Every HAProxy golden config (tests/fixtures/haproxy/*.cfg, and the Swarm balancer's in tests/fixtures/swarm-haproxy) passes `haproxy -c`. */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const fixtures = path.resolve(__dirname, "../fixtures/haproxy");
const goldens = readdirSync(fixtures).filter((f) => f.endsWith(".cfg"));
const swarmFixtures = path.resolve(__dirname, "../fixtures/swarm-haproxy");
const swarmGoldens = readdirSync(swarmFixtures).filter((f) => f.endsWith(".cfg"));

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

  it("has the Swarm balancer's golden files", () => {
    expect(swarmGoldens.length).toBeGreaterThanOrEqual(2);
  });

  for (const file of swarmGoldens) {
    it(`haproxy -c accepts the Swarm balancer's ${file}, without warnings`, async () => {
      const { stdout, stderr } = await promisify(execFile)("haproxy", ["-c", "-f", path.join(swarmFixtures, file)]);
      expect(stdout).toMatch(/Configuration file is valid/);
      expect(stderr).not.toMatch(/WARNING|ALERT/);
    });
  }
});
