import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import type { BalancerConfig } from "@/lib/engines/types";

/** File helpers every engine adapter uses for its config, backup and model files. */

/**
 * Write `text` to `file` atomically: a temp file in the same folder, fsync, rename.
 * A reader (or a crash) sees the old file or the new one, never half of one.
 */
export async function writeAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
  const fh = await open(tmp, "w", mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
}

/** The file's text, or null when it does not exist. */
export async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** The BalancerConfig an engine last applied (model.json), or null when missing or unreadable. */
export async function readModel(file: string): Promise<BalancerConfig | null> {
  const text = await readOrNull(file);
  if (text === null) return null;
  try {
    return JSON.parse(text) as BalancerConfig;
  } catch {
    return null;
  }
}

export function writeModel(file: string, config: BalancerConfig): Promise<void> {
  return writeAtomic(file, JSON.stringify(config, null, 2));
}
