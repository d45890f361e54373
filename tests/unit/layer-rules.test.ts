import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/**
 * The layer rules in eslint.config.mjs, run through ESLint's Node API on snippets placed
 * (by file path only; nothing is written) in each layer: an upward import fails the lint,
 * the same import one layer up, or as `import type` where types are allowed, passes.
 */
const eslint = new ESLint({ cwd: path.resolve(__dirname, "../.."), overrideConfig: { rules: { "@typescript-eslint/no-unused-vars": "off" } } });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.resolve(__dirname, "../..", file) });
  return result.messages.filter((m) => m.ruleId === "@typescript-eslint/no-restricted-imports").map((m) => m.message);
}

// the first lint loads ESLint's config and parser (seconds on a loaded machine, past the default 5 s)
describe("layer rules", { timeout: 60_000 }, () => {
  it.each([
    ["lib/core/x.ts", 'import fs from "node:fs";'],
    ["lib/core/x.ts", 'import { execFile } from "node:child_process";'],
    ["lib/core/x.ts", 'import { db } from "@/lib/db/client";'],
    ["lib/core/x.ts", 'import { engine } from "@/lib/engines/registry";'],
    ["lib/core/x.ts", 'import { controller } from "../controller/controller";'],
    ["lib/controller/x.ts", 'import { getService } from "@/lib/services/manage-services";'],
    ["lib/controller/x.ts", 'import { trafficStatus } from "../services/traffic";'],
    ["lib/engines/haproxy/x.ts", 'import { controller } from "@/lib/controller/controller";'],
    ["lib/runtime/x.ts", 'import { applyRules } from "@/lib/services/apply-rules";'],
    ["lib/auth/x.ts", 'import { hasAnyUser } from "@/lib/services/create-first-admin";'],
    ["components/x/y.tsx", 'import { db } from "@/lib/db/client";'],
    ["components/x/y.tsx", 'import { engine } from "@/lib/engines/registry";'],
    ["components/x/y.tsx", 'import { serviceViewFor } from "@/lib/services/views";'],
  ])("%s: %s fails", async (file, code) => {
    expect(await layerErrors(file, code)).toHaveLength(1);
  });

  it.each([
    ["lib/core/x.ts", 'import { z } from "zod";\nimport { randomBytes } from "node:crypto";\nimport type { Rules } from "@/lib/core/rules";'],
    ["lib/services/x.ts", 'import { controller } from "@/lib/controller/controller";\nimport { db } from "@/lib/db/client";'],
    ["lib/controller/x.ts", 'import { db } from "@/lib/db/client";\nimport type { ServiceView } from "@/lib/services/views";'],
    ["lib/engines/x.ts", 'import { rulesSchema } from "@/lib/core/rules";'],
    ["components/x/y.tsx", 'import { api } from "@/lib/client/api";\nimport { unsupportedOptions } from "@/lib/engines/capabilities";\nimport type { ServiceView } from "@/lib/services/views";'],
    ["components/x/y.tsx", 'import { engineDescriptors } from "@/lib/engines/descriptors";'],
  ])("%s: %s passes", async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });
});
