/**
 * Reading Linux /proc (I/O; the text is parsed by proc-stat.ts). Every reader answers
 * null (or nothing) for a process that is gone or a /proc it cannot read.
 */
import { readFileSync, readdirSync } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { exec } from "@/lib/process/exec";
import { parseProcParent, parseProcStat, type ProcStat } from "@/lib/process/proc-stat";

/** /proc/<pid>/stat parsed, or null when the process is gone. */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** State and parent pid of a process, or null when it is gone (synchronous: process scans). */
export function readProcParentSync(pid: number): { state: string; ppid: number } | null {
  try {
    return parseProcParent(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** The NUL-separated command line (a process's title when it set one), or null when it cannot be read (gone, no /proc). */
export function readCmdlineSync(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return null;
  }
}

/** Every pid /proc lists now ([] without /proc). */
export function listPidsSync(): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}

/** Every pid /proc lists now ([] without /proc). */
export async function listPids(): Promise<number[]> {
  try {
    return (await readdir("/proc")).filter((e) => /^\d+$/.test(e)).map(Number);
  } catch {
    return [];
  }
}

/** Live (not zombie) children of `parentPid`. */
export function childPids(parentPid: number): number[] {
  return listPidsSync().filter((pid) => {
    const st = readProcParentSync(pid);
    return st !== null && st.ppid === parentPid && st.state !== "Z";
  });
}

/**
 * Does one of these processes hold the file (dev, ino) open? From /proc/PID/fd;
 * null when /proc does not say (no /proc, or another user's processes).
 */
export async function holdsFile(pids: readonly number[], file: { dev: number; ino: number }): Promise<boolean | null> {
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // the process is gone
      return null;
    }
    for (const fd of fds) {
      try {
        const s = await stat(`/proc/${pid}/fd/${fd}`);
        if (s.ino === file.ino && s.dev === file.dev) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

let clockTicksPerSecond: Promise<number> | undefined;
/** _SC_CLK_TCK: 100 on practically every Linux, asked once anyway. */
export function clockTicks(): Promise<number> {
  clockTicksPerSecond ??= exec(["getconf", "CLK_TCK"], { timeoutMs: 2000 }).then(
    ({ stdout }) => {
      const n = Number(stdout.trim());
      return Number.isFinite(n) && n > 0 ? n : 100;
    },
    () => 100,
  );
  return clockTicksPerSecond;
}

/** Seconds since boot, the clock /proc start times count from. */
export async function uptimeSeconds(): Promise<number | null> {
  try {
    const n = Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}
