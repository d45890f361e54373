/**
 * Can a replica that runs as an unprivileged user open the files of its command?
 * The panel (root) reads anything; the replica, once it is another user, cannot read a
 * file in a private folder: a clone under /root or in a `mktemp -d` folder (both 0700).
 * The checks look at mode bits and owners along the real path (no ACLs; no
 * supplementary groups, which the child does not have).
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { AppError } from "@/lib/core/errors";

export type Who = { uid: number; gid: number };
export type Owned = { mode: number; uid: number; gid: number };

export const READ = 4;
export const EXECUTE = 1;

/** Pure: do the mode bits of `st` grant `who` every access in `bits` (READ, EXECUTE)? */
export function modeAllows(st: Owned, who: Who, bits: number): boolean {
  const shift = st.uid === who.uid ? 6 : st.gid === who.gid ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

const describe = (p: string, st: Owned) => `${p} is mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}, owner uid ${st.uid} gid ${st.gid}`;

/**
 * Why `who` cannot read `file` (and execute it, with `execute`): the folder or file in
 * the way, in words; null when it can. Symbolic links are resolved first, as exec and
 * node's module loader do.
 */
export async function whyUnreadable(file: string, who: Who, execute = false): Promise<string | null> {
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch (e) {
    return `${file}: ${(e as Error).message}`;
  }
  let dir = path.parse(real).root;
  for (const part of real.split(path.sep).filter(Boolean).slice(0, -1)) {
    const st = await fs.stat(dir);
    if (!modeAllows(st, who, EXECUTE)) return `the folder ${describe(dir, st)}: it cannot be entered`;
    dir = path.join(dir, part);
  }
  const last = await fs.stat(dir);
  if (!modeAllows(last, who, EXECUTE)) return `the folder ${describe(dir, last)}: it cannot be entered`;
  const st = await fs.stat(real);
  if (!modeAllows(st, who, execute ? READ | EXECUTE : READ)) return `${describe(real, st)}: it cannot be ${execute ? "run" : "read"}`;
  return null;
}

/** The argv elements that name existing regular files (argv[0] only with a slash: without one, exec searches PATH). */
export async function fileArguments(command: string[], cwd: string): Promise<{ index: number; file: string }[]> {
  const out: { index: number; file: string }[] = [];
  for (let index = 0; index < command.length; index++) {
    const arg = command[index];
    if ((index === 0 && !arg.includes("/")) || arg.startsWith("-")) continue;
    const file = path.resolve(cwd, arg);
    const st = await fs.stat(file).catch(() => null);
    if (st?.isFile()) out.push({ index, file });
  }
  return out;
}

/**
 * A copy of `file` that `who` can read: DIR/<content hash>/<name>, folders 0755 and the
 * file 0644, written atomically; an identical copy is reused. For the panel's own
 * files only (the bundled replica app), never for a user's command.
 */
export async function publishCopy(file: string, dir: string, who: Who): Promise<string> {
  const content = await fs.readFile(file);
  const folder = path.join(dir, createHash("sha256").update(content).digest("hex").slice(0, 16));
  const dest = path.join(folder, path.basename(file));
  const same = await fs.readFile(dest).then((b) => b.equals(content)).catch(() => false);
  if (!same) {
    // every folder created here 0755 whatever the umask (mkdir returns the first one it made)
    const first = await fs.mkdir(folder, { recursive: true, mode: 0o755 });
    if (first) for (let d = folder; d.length >= first.length; d = path.dirname(d)) await fs.chmod(d, 0o755);
    const tmp = `${dest}.${process.pid}.tmp`;
    await fs.writeFile(tmp, content, { mode: 0o644 });
    await fs.chmod(tmp, 0o644);
    await fs.rename(tmp, dest);
  }
  const why = await whyUnreadable(dest, who);
  if (why) throw new AppError("runtime_error", `copied ${file} to ${dest} for the replica user, who still cannot read it: ${why}`);
  return dest;
}

/**
 * The command a replica running as `who` can actually start. Files it cannot read:
 * in the panel's own default command they are copied under `publishDir`; in a user's
 * command they are a refusal that names the folder in the way.
 */
export async function readableCommand(
  command: string[],
  opts: { cwd: string; who: Who & { name: string }; isDefault: boolean; publishDir: string },
): Promise<string[]> {
  const out = [...command];
  for (const { index, file } of await fileArguments(command, opts.cwd)) {
    const why = await whyUnreadable(file, opts.who, index === 0);
    if (!why) continue;
    if (!opts.isDefault) {
      throw new AppError(
        "runtime_error",
        `the replica user ${opts.who.name} (uid ${opts.who.uid}) cannot ${index === 0 ? "run" : "read"} ${file}: ${why}. Put it where that user can read it (every folder on the way searchable)`,
      );
    }
    out[index] = await publishCopy(file, opts.publishDir, opts.who);
  }
  return out;
}
