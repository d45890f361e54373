import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { parseEnv } from "../lib/env";

/**
 * Make the database ready: generate the Prisma client if missing or stale and apply
 * pending migrations. A newcomer never runs a Prisma command by hand.
 */
export function prepareDb(root = path.resolve(__dirname, "..")): void {
  const cfg = parseEnv(process.env); // fails fast with a clear message
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  const prisma = path.join(root, "node_modules", "prisma", "build", "index.js");
  const childEnv = { ...process.env, DATABASE_URL: cfg.databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" };
  // generate when the client is missing or older than the schema (a pull that added a column)
  const client = path.join(root, "lib", "db", "generated", "client.ts");
  if (!fs.existsSync(client) || fs.statSync(client).mtimeMs < fs.statSync(path.join(root, "prisma", "schema.prisma")).mtimeMs) {
    execFileSync(process.execPath, [prisma, "generate"], { cwd: root, env: childEnv, stdio: "inherit" });
  }
  execFileSync(process.execPath, [prisma, "migrate", "deploy"], { cwd: root, env: childEnv, stdio: ["ignore", "ignore", "inherit"] });
  // WAL (kept in the file): readers never wait for a writer, so a long write elsewhere cannot stall page loads
  const sqlite = new Database(cfg.databaseUrl.replace(/^file:/, ""));
  try {
    sqlite.pragma("journal_mode = WAL");
  } catch (e) {
    console.warn(`[switchyard] the database stays in its journal mode (WAL needs it unlocked): ${e instanceof Error ? e.message : e}`);
  } finally {
    sqlite.close();
  }
}

if (require.main === module) {
  try {
    prepareDb();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
