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
  const dbFile = cfg.databaseUrl.replace(/^file:/, "");
  keepPrivate(cfg.dataDir, dbFile);
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

/** Removes the bits of `file`'s mode that `mode` does not have (never adds any); nothing when it does not exist. */
function tighten(file: string, mode: number): void {
  try {
    if ((fs.statSync(file).mode & 0o777 & ~mode) !== 0) fs.chmodSync(file, mode);
  } catch {
    // not there (yet)
  }
}

/**
 * The data folder is the panel's alone (0700) and the database file is 0600, from the
 * first byte: it holds password hashes and the replicas' admin tokens. A data folder
 * or database made looser before (0755/0644) is tightened. SQLite gives its -wal and
 * -shm files the database file's mode. (Replicas, which may run as another user, get
 * their logs as open files and run from the repository: they need nothing in here.)
 */
function keepPrivate(dataDir: string, dbFile: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  tighten(dataDir, 0o700);
  fs.mkdirSync(path.dirname(dbFile), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(dbFile, "a", 0o600));
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) tighten(f, 0o600);
}

if (require.main === module) {
  try {
    prepareDb();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
