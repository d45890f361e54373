/** ADMIN_PASSWORD_FILE (lib/env.ts): the first admin's password from a file (a compose secret), never from the environment. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";

const dir = mkdtempSync(path.join(os.tmpdir(), "sy-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe("ADMIN_PASSWORD_FILE", () => {
  it("reads the password from the file, without one final line break", () => {
    expect(parseEnv({ ADMIN_PASSWORD_FILE: file("a", "a-long-password\n") }).ADMIN_PASSWORD).toBe("a-long-password");
    expect(parseEnv({ ADMIN_PASSWORD_FILE: file("b", "with trailing space \r\n") }).ADMIN_PASSWORD).toBe("with trailing space ");
  });

  it("an empty file counts as unset: the setup page asks for the admin", () => {
    expect(parseEnv({ ADMIN_PASSWORD_FILE: file("empty", "") }).ADMIN_PASSWORD).toBeUndefined();
  });

  it("stops the start with a message naming the variable: a missing file, both set, a short password", () => {
    expect(() => parseEnv({ ADMIN_PASSWORD_FILE: path.join(dir, "nope") })).toThrow(/ADMIN_PASSWORD_FILE: cannot read .*nope: ENOENT/);
    expect(() => parseEnv({ ADMIN_PASSWORD_FILE: file("c", "a-long-password"), ADMIN_PASSWORD: "another-long-one" })).toThrow(/not both/);
    expect(() => parseEnv({ ADMIN_PASSWORD_FILE: file("short", "short") })).toThrow(/ADMIN_PASSWORD_FILE \(.*short\): at least 10 characters/);
  });
});
