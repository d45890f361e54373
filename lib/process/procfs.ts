/**
 * Reading Linux /proc (I/O; the text is parsed by proc-stat.ts). Every reader answers
 * null (or nothing) for a process that is gone or a /proc it cannot read.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { exec } from "@/lib/process/exec";
import { parseProcParent, parseProcStat, type ProcStat } from "@/lib/process/proc-stat";

const procBuffer = Buffer.alloc(16 * 1024);

/**
 * A small file the kernel makes up on the spot (/proc, /sys/fs/cgroup), read synchronously
 * into one reused buffer: open, read, close, and a second read only when the first filled
 * it. Null when it cannot be read. Such a read never waits for a disk, and it is what the
 * panel does per replica each second: fs.promises.readFile made it a FileHandle, an fstat,
 * two reads and a close through the thread pool, each with its promise (a third of the
 * panel's busy time with 50 replicas, issue 18), for a few hundred bytes.
 */
export function readKernelFileSync(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return null;
  }
  try {
    let text = "";
    for (;;) {
      const n = readSync(fd, procBuffer, 0, procBuffer.length, null);
      text += procBuffer.toString("latin1", 0, n);
      if (n < procBuffer.length) return text;
    }
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** /proc/<pid>/stat parsed, or null when the process is gone. */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  return readProcStatSync(pid);
}

/** readProcStat, synchronous (a read of kernel memory, see readKernelFileSync). */
export function readProcStatSync(pid: number): ProcStat | null {
  const text = readKernelFileSync(`/proc/${pid}/stat`);
  return text === null ? null : parseProcStat(text);
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

/** A positive number `getconf NAME` prints (asked once per name), or `fallback`. */
const getconfAnswers = new Map<string, Promise<number>>();
function getconfNumber(name: string, fallback: number): Promise<number> {
  let answer = getconfAnswers.get(name);
  if (!answer) {
    answer = exec(["getconf", name], { timeoutMs: 2000 }).then(
      ({ stdout }) => {
        const n = Number(stdout.trim());
        return Number.isFinite(n) && n > 0 ? n : fallback;
      },
      () => fallback,
    );
    getconfAnswers.set(name, answer);
  }
  return answer;
}

/** _SC_CLK_TCK: 100 on practically every Linux, asked once anyway. */
export function clockTicks(): Promise<number> {
  return getconfNumber("CLK_TCK", 100);
}

/** The memory page size (/proc/<pid>/stat counts RSS in pages): 4096 on x86-64, asked once. */
export function pageSize(): Promise<number> {
  return getconfNumber("PAGESIZE", 4096);
}

/** Read /proc/uptime again after this long; between reads it is carried forward on the monotonic clock. */
const UPTIME_REREAD_MS = 10_000;
let uptimeBase: { seconds: number; atMs: number } | null = null;

/**
 * Seconds since boot, the clock /proc start times count from. Read from /proc/uptime at
 * most every 10 s and carried forward with performance.now() in between (both count
 * from a fixed point at the same rate; only a suspend, which /proc/uptime counts and
 * the monotonic clock may not, can part them, and the next read puts that right): the
 * collector asks once per replica per second.
 */
export async function uptimeSeconds(): Promise<number | null> {
  const now = performance.now();
  if (uptimeBase && now - uptimeBase.atMs < UPTIME_REREAD_MS) return uptimeBase.seconds + (now - uptimeBase.atMs) / 1000;
  const text = readKernelFileSync("/proc/uptime");
  const n = text === null ? NaN : Number(text.split(" ")[0]);
  if (!Number.isFinite(n)) return null;
  uptimeBase = { seconds: n, atMs: performance.now() };
  return n;
}
