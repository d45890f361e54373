/**
 * Test helper: a fresh, migrated SQLite database in a temporary DATA_DIR for tests
 * that import server modules directly (route handlers, use cases, realtime).
 *
 * lib/env.ts parses process.env once and remembers it (and the Prisma client) on
 * globalThis, so this sets the environment and forgets both BEFORE the test imports
 * any server module: call it first in beforeAll, then `await import(...)` the modules.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { forget, remember } from "@/lib/remember";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where the contract check appends what it checked (scripts/contract-coverage.ts reads it). */
export const CONTRACT_LOG = path.join(ROOT, "test-results", "contract", "in-process.jsonl");

export type TempDatabase = {
  dataDir: string;
  databaseUrl: string;
  /** Disconnect the Prisma client, forget the remembered env, remove the folder. */
  close(): Promise<void>;
};

export async function openTempDatabase(name = "db"): Promise<TempDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `switchyard-${name}-`));
  const databaseUrl = `file:${path.join(dataDir, "switchyard.db")}`;
  process.env.DATA_DIR = dataDir;
  process.env.DATABASE_URL = databaseUrl;
  // route handlers called here check every request and answer against the OpenAPI document (lib/openapi/contract.ts)
  process.env.SWITCHYARD_CONTRACT = "1";
  process.env.SWITCHYARD_CONTRACT_LOG = CONTRACT_LOG;
  // settings that would change what the tests see (a bootstrap admin, extra origins, proxies)
  for (const k of ["ADMIN_USER", "ADMIN_PASSWORD", "ADMIN_PASSWORD_FILE", "ALLOWED_ORIGINS", "PUBLIC_URL", "TRUST_PROXY"]) delete process.env[k];
  forget("env");
  forget("prisma");
  const { prepareDb } = await import("@/scripts/prepare-db");
  prepareDb(ROOT);
  // the contract check's validators, compiled here rather than at a test's first request (seconds of a busy event loop)
  remember("openapi-contract-warm", (await import("@/lib/openapi/contract")).warmContract);
  return {
    dataDir,
    databaseUrl,
    async close() {
      const { db } = await import("@/lib/db/client");
      await db().$disconnect();
      forget("prisma");
      forget("env");
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
