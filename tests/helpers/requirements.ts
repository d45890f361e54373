/**
 * What a suite needs from the machine (a Docker engine, haproxy, nginx, chromium), and
 * what happens when it is missing:
 *
 * - under CI (`CI` set and not "0"/"false"), a missing dependency is a failure: `needs`
 *   throws while the file is collected, so the file fails with the reason;
 * - elsewhere the suite is skipped, loudly: the reason is printed, and `needs` returns
 *   true so it can be passed straight to `describe.skipIf`.
 *
 *   describe.skipIf(needs("nginx", hasBinary("nginx")))("…", () => { … });
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";

export const isCI = ((v) => v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false")(process.env.CI);

/** True when the suite must skip (outside CI, `missing` is a reason); throws under CI; false when nothing is missing. */
export function needs(what: string, missing: string | null): boolean {
  if (missing === null) return false;
  const message = `${what} is needed and missing: ${missing}`;
  if (isCI) throw new Error(`${message} (under CI a missing dependency fails the suite; scripts/ci-setup.sh installs it)`);
  console.warn(`\n*** SKIPPING: ${message} ***\n`);
  return true;
}

/** null when `bin -v`-style probing finds the binary on PATH, else why not. */
export function hasBinary(bin: string, args: string[] = ["-v"]): string | null {
  try {
    execFileSync(bin, args, { stdio: "ignore", timeout: 10_000 });
    return null;
  } catch (e) {
    return `\`${bin}\` did not run (${(e as Error).message.split("\n")[0]}); apt-get install ${bin} (scripts/ci-setup.sh does)`;
  }
}

/** null when a file exists, else why not. */
export function hasFile(file: string, hint: string): string | null {
  return fs.existsSync(file) ? null : `${file} does not exist (${hint})`;
}
