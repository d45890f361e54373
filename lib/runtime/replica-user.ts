/**
 * Who process replicas run as. Never root:
 * - a panel running as root starts them as REPLICA_USER (default switchyard-replica,
 *   created by scripts/ci-setup.sh) and refuses to start any while that user is missing;
 * - a panel that is not root cannot switch users, so they run as the panel's own user
 *   (which is not root either).
 * The child gets the uid and gid through spawn's options; libuv drops the supplementary
 * groups (setgroups) before setgid/setuid, after it has changed into the working directory.
 */
import { AppError } from "@/lib/core/errors";
import { exec } from "@/lib/process/exec";

export type PasswdEntry = { name: string; uid: number; gid: number };

/** Whom a replica runs as; `switched` when the panel (root) hands it another uid. */
export type RunAs = { name: string; uid: number; gid: number; switched: boolean };

/** One line of `getent passwd` (name:x:uid:gid:gecos:home:shell), or null when it is not one. */
export function parsePasswdLine(line: string): PasswdEntry | null {
  const f = line.trim().split(":");
  if (f.length < 7 || !f[0] || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) return null;
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]) };
}

/** The command that creates the replica user, as the refusal tells an operator to run it. */
export function createUserCommand(name: string): string {
  return `useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${name}`;
}

/**
 * Pure: who replicas run as, given the panel's own ids and the configured user's entry.
 * Throws (runtime_error) rather than ever answer root.
 */
export function decideRunAs(panel: { uid: number; gid: number }, wanted: string, entry: PasswdEntry | null): RunAs {
  if (panel.uid !== 0) return { name: `uid ${panel.uid} (the panel's own user)`, uid: panel.uid, gid: panel.gid, switched: false };
  if (!entry) {
    throw new AppError(
      "runtime_error",
      `replicas never run as root, and the user ${wanted} they run as does not exist: create it (scripts/ci-setup.sh --system-only, or ${createUserCommand(wanted)}) or set REPLICA_USER to an existing unprivileged user`,
    );
  }
  if (entry.uid === 0 || entry.gid === 0) {
    throw new AppError("runtime_error", `replicas never run as root: REPLICA_USER ${wanted} has uid ${entry.uid} and gid ${entry.gid}; name an unprivileged user`);
  }
  return { name: entry.name, uid: entry.uid, gid: entry.gid, switched: true };
}

/** The passwd entry of `name` through NSS (getent), or null when there is none. */
export async function lookupUser(name: string): Promise<PasswdEntry | null> {
  const found = await exec(["getent", "passwd", name], { timeoutMs: 5000 }).catch(() => null);
  return found === null ? null : parsePasswdLine(found.stdout.split("\n")[0] ?? "");
}

/** Who replicas of this panel run as now (looked up on every call: the user may be created while the panel runs). */
export async function resolveRunAs(wanted: string): Promise<RunAs> {
  const panel = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  return decideRunAs(panel, wanted, panel.uid === 0 ? await lookupUser(wanted) : null);
}
