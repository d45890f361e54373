/** Pid files: the first line holds the pid. */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";

/** The pid on the file's first line, or null when the file is missing or holds no pid. */
export function parsePidFile(text: string): number | null {
  const pid = Number(text.trim().split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export async function readPidFile(file: string): Promise<number | null> {
  const text = await readFile(file, "utf8").catch(() => null);
  return text === null ? null : parsePidFile(text);
}

export function readPidFileSync(file: string): number | null {
  try {
    return parsePidFile(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

export function writePidFile(file: string, pid: number = process.pid): Promise<void> {
  return writeFile(file, `${pid}\n`, { mode: 0o600 });
}
