import fs from "node:fs";
import path from "node:path";

/**
 * A value this panel keeps in a file of its data folder (its id, its secrets): read
 * when the file is there and well formed, else created once. The file is created
 * exclusively with its final mode, so a secret is never readable by others, not even
 * for a moment, and two processes starting at once agree on one value.
 */
export function keptInDataDir(dataDir: string, name: string, opts: { pattern: RegExp; create: () => string; mode: number }): string {
  const file = path.join(dataDir, name);
  const read = (): string | null => {
    try {
      const value = fs.readFileSync(file, "utf8").trim();
      return opts.pattern.test(value) ? value : null;
    } catch {
      return null; // first start
    }
  };
  const existing = read();
  if (existing !== null) {
    // a copied or restored data folder may have loosened the mode: a secret stays the owner's
    if ((fs.statSync(file).mode & 0o777 & ~opts.mode) !== 0) fs.chmodSync(file, opts.mode);
    return existing;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const value = opts.create();
  try {
    fs.writeFileSync(file, `${value}\n`, { mode: opts.mode, flag: "wx" });
    return value;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  // another process wrote it first (keep theirs), or the file is malformed (replace it)
  const theirs = read();
  if (theirs !== null) return theirs;
  fs.writeFileSync(file, `${value}\n`, { mode: opts.mode });
  fs.chmodSync(file, opts.mode);
  return value;
}
