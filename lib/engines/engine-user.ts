/**
 * Who a supervised HAProxy's workers run as. Its master keeps the panel's user: it binds the
 * listeners, reads the configuration and certificates and re-executes itself on a reload. The
 * workers, which parse every client's bytes, drop to ENGINE_USER when the panel is root
 * (HAProxy's global `uid`/`gid`), so a flaw in the data path is not root on the host. A panel
 * that is not root cannot switch users: its HAProxy runs as the panel's own user, not root either.
 */
import { execFileSync } from "node:child_process";
import { AppError } from "@/lib/core/errors";
import { createUserCommand, parsePasswdLine, type PasswdEntry } from "@/lib/runtime/replica-user";

export type EngineRunAs = { name: string; uid: number; gid: number };

/** Pure: the ids the workers drop to, given the panel's uid and the configured user's entry; null: no switch. */
export function decideEngineRunAs(panelUid: number, wanted: string, entry: PasswdEntry | null): EngineRunAs | null {
  if (panelUid !== 0) return null;
  if (!entry) {
    throw new AppError(
      "runtime_error",
      `the balancer's workers never run as root, and the user ${wanted} they run as does not exist: create it (npm start and scripts/ci-setup.sh do, or ${createUserCommand(wanted)}) or set ENGINE_USER to an existing unprivileged user`,
    );
  }
  if (entry.uid === 0 || entry.gid === 0) {
    throw new AppError("runtime_error", `the balancer's workers never run as root: ENGINE_USER ${wanted} has uid ${entry.uid} and gid ${entry.gid}; name an unprivileged user`);
  }
  return { name: entry.name, uid: entry.uid, gid: entry.gid };
}

/** Who this panel's HAProxy workers run as (null: as the panel, which is not root). Looks the user up through NSS. */
export function engineRunAs(wanted: string): EngineRunAs | null {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return null;
  let line = "";
  try {
    line = execFileSync("getent", ["passwd", wanted], { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    // exit 2: no such user
  }
  return decideEngineRunAs(uid, wanted, parsePasswdLine(line.split("\n")[0] ?? ""));
}
