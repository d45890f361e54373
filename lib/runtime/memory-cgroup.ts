/**
 * Holding a process replica to its memory limit: a memory cgroup of its own, where the
 * machine lets the panel make one. Docker does the same for containers (it puts the
 * container's Memory on its cgroup); without it a process replica's limit is only the
 * figure its /health judges against, and the card says so.
 *
 * Where the cgroups go (one folder, `switchyard-replicas`, with one cgroup per replica):
 * - cgroup v2 with the memory controller: beside the panel's own cgroup (under its
 *   parent; under the root when the panel sits in the root), since a v2 cgroup holding
 *   processes may not enable controllers for children. The panel needs to write there:
 *   root, or a subtree delegated to its user (systemd's user@.service, Delegate=yes).
 * - cgroup v1 with a memory hierarchy: inside the panel's own memory cgroup (v1 allows
 *   it), so replicas stay inside whatever the panel's machine accounts it under.
 * Anything else (no memory controller, no write access) is "not enforced", with the reason.
 *
 * A replica is moved into its cgroup right after the spawn (Node cannot spawn into one);
 * on v1 its early pages move with it (move_charge_at_immigrate), on v2 the few it touched
 * before the move stay charged to the panel.
 */
import { promises as fs, constants as fsConstants } from "node:fs";
import path from "node:path";
import { parseLimit, parseMountinfo, parseProcCgroup, statValue, type CgroupLine, type Mount } from "./cgroup";

export const REPLICAS_FOLDER = "switchyard-replicas";

/** Where replica cgroups would go, by the pure reading of the mounts and the panel's own cgroups. */
export type CgroupPlace = { version: 1 | 2; parent: string } | { version: null; reason: string };

export function placeForReplicas(mounts: Mount[], own: CgroupLine[]): CgroupPlace {
  const v2Line = own.find((l) => l.controllers.length === 0);
  const v2Mount = mounts.find((m) => m.fsType === "cgroup2" && m.root === "/");
  const v1Line = own.find((l) => l.controllers.includes("memory"));
  const v1Mount = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.includes("memory") && m.root === "/");
  // v1's memory hierarchy, when mounted, is where the memory controller lives (hybrid machines)
  if (v1Line && v1Mount) return { version: 1, parent: path.join(v1Mount.mountPoint, v1Line.path) };
  if (v2Line && v2Mount) {
    const own2 = v2Line.path.replace(/\/+$/, "") || "/";
    const parent = path.join(v2Mount.mountPoint, own2 === "/" ? "/" : path.posix.dirname(own2));
    return { version: 2, parent: parent.length > 1 ? parent.replace(/\/$/, "") : parent };
  }
  return { version: null, reason: "no cgroup memory controller is mounted here" };
}

export type MemoryEnforcement =
  | { enforced: true; version: 1 | 2; base: string }
  | { enforced: false; reason: string };

const write = (file: string, value: string) => fs.writeFile(file, value);

async function canWrite(p: string): Promise<boolean> {
  try {
    await fs.access(p, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const who = () => (process.getuid?.() === 0 ? "root" : `uid ${process.getuid?.() ?? "?"}`);

/** Finds (and makes) the folder replica cgroups go in, or says why there is none. */
export async function probeMemoryEnforcement(): Promise<MemoryEnforcement> {
  let place: CgroupPlace;
  try {
    const [mountinfo, own] = await Promise.all([fs.readFile("/proc/self/mountinfo", "utf8"), fs.readFile("/proc/self/cgroup", "utf8")]);
    place = placeForReplicas(parseMountinfo(mountinfo), parseProcCgroup(own));
  } catch (e) {
    return { enforced: false, reason: `cannot read this process's cgroups: ${(e as Error).message}` };
  }
  if (place.version === null) return { enforced: false, reason: place.reason };
  const { version, parent } = place;
  if (version === 2) {
    const controllers = await fs.readFile(path.join(parent, "cgroup.controllers"), "utf8").catch(() => "");
    if (!controllers.split(/\s+/).includes("memory")) {
      return { enforced: false, reason: `the cgroup v2 memory controller is not available in ${parent}` };
    }
  }
  if (!(await canWrite(parent)) || !(await canWrite(path.join(parent, "cgroup.procs")))) {
    return {
      enforced: false,
      reason: `the panel (${who()}) may not create cgroups in ${parent}: run it as root, or in a cgroup v2 subtree delegated to its user`,
    };
  }
  const base = path.join(parent, REPLICAS_FOLDER);
  try {
    if (version === 2) {
      const enabled = await fs.readFile(path.join(parent, "cgroup.subtree_control"), "utf8");
      if (!enabled.split(/\s+/).includes("memory")) await write(path.join(parent, "cgroup.subtree_control"), "+memory");
    }
    await fs.mkdir(base, { recursive: true });
    if (version === 2) await write(path.join(base, "cgroup.subtree_control"), "+memory");
  } catch (e) {
    return { enforced: false, reason: `cannot prepare ${base} for replica cgroups: ${(e as Error).message}` };
  }
  await sweepEmpty(base);
  // the replicas' CPU cgroups (v1: their own hierarchies, enterCpuCgroups) are swept the same way
  if (version === 1) {
    const [mountinfo, own] = await Promise.all([fs.readFile("/proc/self/mountinfo", "utf8"), fs.readFile("/proc/self/cgroup", "utf8")]).catch(() => ["", ""]);
    for (const dir of cpuCgroupDirs(parseMountinfo(mountinfo), parseProcCgroup(own), "", { version, base })) await sweepEmpty(dir);
  }
  return { enforced: true, version, base };
}

/**
 * Removes replica cgroups nothing runs in any more (replicas killed behind the runtime's
 * back); a minute's grace, so a cgroup made a moment ago, before its process moved in, stays.
 */
async function sweepEmpty(base: string, graceMs = 60_000): Promise<void> {
  const entries = await fs.readdir(base, { withFileTypes: true }).catch(() => []);
  for (const d of entries) {
    if (!d.isDirectory()) continue;
    const dir = path.join(base, d.name);
    const [procs, st] = await Promise.all([fs.readFile(path.join(dir, "cgroup.procs"), "utf8").catch(() => "x"), fs.stat(dir).catch(() => null)]);
    if (procs.trim() === "" && st && Date.now() - st.mtimeMs > graceMs) await fs.rmdir(dir).catch(() => undefined);
  }
}

/** The cgroup folder of one replica. */
export const replicaCgroupDir = (e: { base: string }, replicaId: string) => path.join(e.base, replicaId);

/**
 * Makes the replica's cgroup with `limitBytes` (no swap beyond it) and moves `pid` into it.
 * Throws when the kernel refuses; the caller then reports the limit as not enforced.
 */
export async function enterMemoryCgroup(e: { version: 1 | 2; base: string }, replicaId: string, pid: number, limitBytes: number): Promise<string> {
  const dir = replicaCgroupDir(e, replicaId);
  await fs.mkdir(dir, { recursive: true });
  if (e.version === 1) {
    // memsw (memory + swap) must stay >= the memory limit: lower it last when shrinking, raise it first when growing
    const memsw = path.join(dir, "memory.memsw.limit_in_bytes");
    const hasMemsw = await fs.access(memsw).then(() => true, () => false);
    const current = parseLimit(await fs.readFile(path.join(dir, "memory.limit_in_bytes"), "utf8"));
    if (hasMemsw && current !== null && current < limitBytes) await write(memsw, String(limitBytes));
    await write(path.join(dir, "memory.limit_in_bytes"), String(limitBytes));
    if (hasMemsw) await write(memsw, String(limitBytes));
    await write(path.join(dir, "memory.move_charge_at_immigrate"), "3").catch(() => undefined); // gone in newer kernels
  } else {
    await write(path.join(dir, "memory.max"), String(limitBytes));
    await write(path.join(dir, "memory.swap.max"), "0").catch(() => undefined); // no swap accounting here
  }
  await write(path.join(dir, "cgroup.procs"), String(pid));
  return dir;
}

/**
 * Is `pid` in this replica's own memory cgroup, held to at most `limitBytes`? Read from
 * the kernel, so it is true only while the limit really applies (a replica adopted from
 * a panel that could not make cgroups reads false).
 */
export async function isHeldToLimit(pid: number, replicaId: string, limitBytes: number): Promise<boolean> {
  try {
    const [mountinfo, own] = await Promise.all([fs.readFile("/proc/self/mountinfo", "utf8"), fs.readFile(`/proc/${pid}/cgroup`, "utf8")]);
    const mounts = parseMountinfo(mountinfo);
    const lines = parseProcCgroup(own);
    const v1Line = lines.find((l) => l.controllers.includes("memory"));
    const v1Mount = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.includes("memory") && m.root === "/");
    const v2Line = lines.find((l) => l.controllers.length === 0);
    const v2Mount = mounts.find((m) => m.fsType === "cgroup2" && m.root === "/");
    const ours = (l: CgroupLine | undefined) => Boolean(l && l.path.endsWith(`/${REPLICAS_FOLDER}/${replicaId}`));
    const file =
      ours(v1Line) && v1Mount
        ? path.join(v1Mount.mountPoint, v1Line!.path, "memory.limit_in_bytes")
        : ours(v2Line) && v2Mount
          ? path.join(v2Mount.mountPoint, v2Line!.path, "memory.max")
          : null;
    if (!file) return false;
    const limit = parseLimit(await fs.readFile(file, "utf8"));
    return limit !== null && limit <= limitBytes;
  } catch {
    return false;
  }
}

/* turbopackIgnore: a cgroup folder at run time, not files of the build for `next build` to trace */
/** How many times the kernel killed a process of this cgroup for memory (v1 memory.oom_control, v2 memory.events). */
export async function oomKills(dir: string): Promise<number> {
  for (const file of ["memory.events", "memory.oom_control"]) {
    const text = await fs.readFile(/*turbopackIgnore: true*/ path.join(/*turbopackIgnore: true*/ dir, file), "utf8").catch(() => null);
    if (text !== null) return statValue(text, "oom_kill") ?? 0;
  }
  return 0;
}

/** Removes a replica's cgroup (empty once its processes ended); nothing when it is not there. */
export async function removeMemoryCgroup(e: { base: string }, replicaId: string): Promise<void> {
  await fs.rmdir(replicaCgroupDir(e, replicaId)).catch(() => undefined);
}

const MiB = 1024 * 1024;
const CFS_PERIOD_US = 100_000;

/**
 * Pure: where a replica's CPU cgroups go, beside its memory one: under the panel's own
 * cgroup of each v1 hierarchy holding `cpu` or `cpuacct` (they may be one mount or two);
 * on v2 the memory cgroup's own folder takes the cpu controller as well. Empty when
 * neither controller is there.
 */
export function cpuCgroupDirs(mounts: Mount[], own: CgroupLine[], replicaId: string, memory: { version: 1 | 2; base: string }): string[] {
  if (memory.version === 2) return [replicaCgroupDir(memory, replicaId)];
  const dirs = new Set<string>();
  for (const c of ["cpu", "cpuacct"]) {
    const line = own.find((l) => l.controllers.includes(c));
    const mount = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.includes(c) && m.root === "/");
    if (line && mount) dirs.add(path.join(mount.mountPoint, line.path, REPLICAS_FOLDER, replicaId));
  }
  return [...dirs];
}

/**
 * Puts the replica's process in CPU cgroups of its own (best effort: a machine without a
 * cpu controller, or one that refuses, leaves it where it is), held to `cpuLimit` cores
 * when one is set. A stressor that joins them then counts against that limit.
 */
export async function enterCpuCgroups(memory: { version: 1 | 2; base: string }, replicaId: string, pid: number, cpuLimit: number | null): Promise<string[]> {
  const [mountinfo, own] = await Promise.all([fs.readFile("/proc/self/mountinfo", "utf8"), fs.readFile("/proc/self/cgroup", "utf8")]);
  const entered: string[] = [];
  for (const dir of cpuCgroupDirs(parseMountinfo(mountinfo), parseProcCgroup(own), replicaId, memory)) {
    try {
      if (memory.version === 2) {
        for (const d of [path.dirname(memory.base), memory.base]) {
          const enabled = await fs.readFile(path.join(d, "cgroup.subtree_control"), "utf8").catch(() => "");
          if (!enabled.split(/\s+/).includes("cpu")) await write(path.join(d, "cgroup.subtree_control"), "+cpu");
        }
        if (cpuLimit) await write(path.join(dir, "cpu.max"), `${Math.round(cpuLimit * CFS_PERIOD_US)} ${CFS_PERIOD_US}`);
        entered.push(dir);
        continue;
      }
      await fs.mkdir(dir, { recursive: true });
      const hasQuota = await fs.access(path.join(dir, "cpu.cfs_quota_us")).then(() => true, () => false);
      if (hasQuota) {
        await write(path.join(dir, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
        await write(path.join(dir, "cpu.cfs_quota_us"), cpuLimit ? String(Math.round(cpuLimit * CFS_PERIOD_US)) : "-1");
      }
      await write(path.join(dir, "cgroup.procs"), String(pid));
      entered.push(dir);
    } catch {
      /* no CPU cgroup for this replica here: its CPU is only measured, as before */
    }
  }
  return entered;
}

/** Removes a replica's CPU cgroups (v1; on v2 they are its memory cgroup). */
async function removeCpuCgroups(e: { version: 1 | 2; base: string }, replicaId: string): Promise<void> {
  if (e.version === 2) return;
  const [mountinfo, own] = await Promise.all([fs.readFile("/proc/self/mountinfo", "utf8"), fs.readFile("/proc/self/cgroup", "utf8")]).catch(() => ["", ""]);
  for (const dir of cpuCgroupDirs(parseMountinfo(mountinfo), parseProcCgroup(own), replicaId, e)) await fs.rmdir(dir).catch(() => undefined);
}

/**
 * The process runtime's memory limits: decides once where replica cgroups go (or why
 * there are none), puts each new replica in its own, and says per process whether its
 * limit holds (cached per process: pid and start time).
 */
export function createReplicaMemoryLimits(probe: () => Promise<MemoryEnforcement> = probeMemoryEnforcement) {
  let decided: Promise<MemoryEnforcement> | null = null;
  const enforcement = (): Promise<MemoryEnforcement> => (decided ??= probe());
  const held = new Map<string, boolean>();
  return {
    /** whether this runtime can hold replicas to their limit here, and where or why not */
    enforcement,
    /** A new replica process: into a fresh cgroup of its own with its limit (a refusal leaves it unlimited, which stats() then say). */
    async enter(replicaId: string, pid: number, limitMb: number, cpuLimit: number | null = null): Promise<void> {
      const e = await enforcement();
      if (!e.enforced || limitMb <= 0) return;
      await removeMemoryCgroup(e, replicaId); // the last run's, with its OOM count
      await enterMemoryCgroup(e, replicaId, pid, limitMb * MiB).catch(() => undefined);
      await enterCpuCgroups(e, replicaId, pid, cpuLimit).catch(() => undefined);
    },
    /** Whether the process `key` (pid:startTicks) is held to its limit, read from the kernel once per process. */
    async isEnforced(key: string, pid: number, replicaId: string, limitBytes: number | null): Promise<boolean> {
      const known = held.get(key);
      if (known !== undefined) return known;
      const now = limitBytes !== null && (await isHeldToLimit(pid, replicaId, limitBytes));
      held.set(key, now);
      return now;
    },
    /** Did the kernel kill this replica's process for memory (since its last start)? */
    async oomKilled(replicaId: string): Promise<boolean> {
      const e = await enforcement();
      return e.enforced && (await oomKills(replicaCgroupDir(e, replicaId))) > 0;
    },
    /** The replica is gone: forget its process and remove its (empty) cgroup. */
    async release(replicaId: string, key?: string): Promise<void> {
      if (key) held.delete(key);
      const e = await enforcement();
      if (e.enforced) {
        await removeMemoryCgroup(e, replicaId);
        await removeCpuCgroups(e, replicaId);
      }
    },
  };
}
