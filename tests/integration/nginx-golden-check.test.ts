import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { GOLDEN_DATA_DIR, goldenCases } from "../fixtures/nginx/balancer-configs";

// Every golden nginx.conf must pass nginx's own check. The goldens name
// /srv/switchyard/data; the test moves that to a temp folder so `nginx -t`
// creates its temp folders there and never outside.

const run = promisify(execFile);
const fixtures = path.resolve(__dirname, "../fixtures/nginx");
const work = mkdtempSync(path.join(os.tmpdir(), "sy-nginx-golden-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("golden nginx configs pass nginx -t", () => {
  for (const c of goldenCases) {
    it(`${c.name}.conf`, async () => {
      const dataDir = path.join(work, c.name);
      const prefix = path.join(dataDir, "nginx");
      mkdirSync(path.join(prefix, "logs"), { recursive: true });
      mkdirSync(path.join(prefix, "temp"), { recursive: true });
      const text = readFileSync(path.join(fixtures, `${c.name}.conf`), "utf8").split(GOLDEN_DATA_DIR).join(dataDir);
      const file = path.join(prefix, "nginx.conf");
      writeFileSync(file, text);
      const { stderr } = await run("nginx", ["-t", "-c", file, "-p", `${prefix}/`, "-e", "stderr"]);
      expect(stderr).toContain("syntax is ok");
      expect(stderr).toContain("test is successful");
    });
  }
});
