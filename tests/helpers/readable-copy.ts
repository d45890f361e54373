import { chmod, copyFile, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * A copy of `file` that another user can read: replicas run as the replica user
 * (never root), and a clone may sit in a folder only its owner can enter (CI clones
 * into a 0700 `mktemp -d`). The panel refuses a user's command it cannot hand to that
 * user, as it should, so a test's own app is copied out first: a fresh folder under
 * the system temp dir, 0755, the file 0644.
 */
export async function readableCopy(file: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sy-readable-"));
  await chmod(dir, 0o755);
  const dest = path.join(dir, path.basename(file));
  await copyFile(file, dest);
  await chmod(dest, 0o644);
  return dest;
}
