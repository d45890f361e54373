/**
 * tests/helpers/temp-db.ts clears the settings that would change what a test sees, whatever the
 * shell running the tests exports: here a bootstrap admin given through ADMIN_PASSWORD_FILE
 * (a compose secret's path), which lib/env.ts would read, or refuse when the file is missing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

let database: TempDatabase | undefined;
const secrets = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-temp-db-env-"));

afterAll(async () => {
  await database?.close();
  fs.rmSync(secrets, { recursive: true, force: true });
});

describe("openTempDatabase", () => {
  it("clears ADMIN_USER, ADMIN_PASSWORD and ADMIN_PASSWORD_FILE from the environment the server modules read", async () => {
    const file = path.join(secrets, "admin_password");
    fs.writeFileSync(file, "a-long-password-from-a-file\n");
    process.env.ADMIN_USER = "admin";
    process.env.ADMIN_PASSWORD_FILE = file;
    database = await openTempDatabase("temp-db-env");
    expect(process.env.ADMIN_PASSWORD_FILE).toBeUndefined();
    const { env } = await import("@/lib/env");
    expect(env().ADMIN_USER).toBeUndefined();
    // lib/bootstrap.ts creates a first admin only from both: a test's panel keeps its setup page
    expect(env().ADMIN_PASSWORD).toBeUndefined();
  });
});
