/**
 * The data folder is the panel's alone (issue 10, Medium 12: switchyard.db, which holds
 * password hashes and replica admin tokens, was 0644 in a 0755 folder). prepareDb (run
 * by npm start, npm run dev and the tests) makes the folder 0700 and the database 0600,
 * tightens a folder and database made before, and SQLite's -wal/-shm files follow the
 * database's mode.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";

const ROOT = path.resolve(__dirname, "..", "..");
const parent = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-modes-"));
const modeOf = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);

afterAll(async () => {
  const { db } = await import("@/lib/db/client");
  await db().$disconnect();
  forget("prisma");
  forget("env");
  fs.rmSync(parent, { recursive: true, force: true });
});

async function prepare(dataDir: string): Promise<string> {
  process.env.DATA_DIR = dataDir;
  delete process.env.DATABASE_URL; // the default: DATA_DIR/switchyard.db
  forget("env");
  forget("prisma");
  const { prepareDb } = await import("@/scripts/prepare-db");
  prepareDb(ROOT);
  return path.join(dataDir, "switchyard.db");
}

describe("data folder and database file modes", () => {
  it("a fresh data folder is 0700 and the database 0600; the WAL files the panel opens are 0600 too", async () => {
    const dataDir = path.join(parent, "fresh", "data");
    const dbFile = await prepare(dataDir);
    expect(modeOf(dataDir)).toBe("700");
    expect(modeOf(dbFile)).toBe("600");
    const { db } = await import("@/lib/db/client");
    await db().setting.create({ data: { key: "k", value: "v" } }); // the panel's connection: WAL mode makes -wal and -shm
    for (const f of [`${dbFile}-wal`, `${dbFile}-shm`]) {
      expect(fs.existsSync(f), f).toBe(true);
      expect(modeOf(f), f).toBe("600");
    }
    await db().$disconnect();
  });

  it("a data folder and database made looser before (0755, 0644) are tightened on the next start", async () => {
    const dataDir = path.join(parent, "old");
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    fs.writeFileSync(path.join(dataDir, "switchyard.db"), "");
    fs.chmodSync(path.join(dataDir, "switchyard.db"), 0o644);
    const dbFile = await prepare(dataDir);
    expect(modeOf(dataDir)).toBe("700");
    expect(modeOf(dbFile)).toBe("600");
    console.log(`modes after prepareDb: data folder ${modeOf(dataDir)}, switchyard.db ${modeOf(dbFile)}`);
  });
});
