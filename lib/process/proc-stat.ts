/**
 * Pure readers of Linux /proc text (no I/O here, so they are unit-tested on
 * captured samples) and the CPU-percent arithmetic shared by the runtimes.
 * The one parser of /proc/<pid>/stat; procfs.ts reads the files.
 */

export type ProcStat = {
  /** R, S, D, Z (zombie), X (dead), T ... */
  state: string;
  /** user + system CPU time, in clock ticks */
  cpuTicks: number;
  /** when the process started, in clock ticks after boot: with the pid, it names one process */
  startTicks: number;
  /** session id: a process spawned detached leads its own session (it equals its pid) */
  session: number;
  /** resident set size in pages (field 24): the same count /proc/<pid>/status shows as VmRSS, in kB there */
  rssPages: number;
};

/**
 * The fields of /proc/<pid>/stat from field 3 (state) on: field N is at index N - 3.
 * The command name (field 2) sits in parentheses and may itself hold spaces and
 * parentheses, so fields are counted after the last ")". Null when it is not such a line.
 */
function fieldsAfterCommand(text: string): string[] | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  return text.slice(close + 2).trim().split(/\s+/);
}

/** Parses /proc/<pid>/stat (see fieldsAfterCommand). */
export function parseProcStat(text: string): ProcStat | null {
  const rest = fieldsAfterCommand(text);
  if (rest === null || rest.length < 22) return null;
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTicks = Number(rest[19]);
  const session = Number(rest[3]);
  const rssPages = Number(rest[21]);
  if (![utime, stime, startTicks, session, rssPages].every(Number.isFinite)) return null;
  return { state: rest[0], cpuTicks: utime + stime, startTicks, session, rssPages };
}

/** State and parent pid (field 4; 1 once the parent is gone) from /proc/<pid>/stat, or null. */
export function parseProcParent(text: string): { state: string; ppid: number } | null {
  const rest = fieldsAfterCommand(text);
  if (rest === null || rest.length < 2) return null;
  const ppid = Number(rest[1]);
  return Number.isFinite(ppid) ? { state: rest[0], ppid } : null;
}

/** Resident memory in bytes from /proc/<pid>/status ("VmRSS:  12345 kB"), or null when absent (kernel threads, zombies). */
export function parseVmRssBytes(statusText: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : null;
}

export type CpuSample = {
  /** cumulative CPU time; ticks for /proc, nanoseconds for cgroups: say which through `ticksPerSecond` */
  cpu: number;
  /** wall clock of the sample, in milliseconds (any origin, the same for both samples) */
  atMs: number;
};

/**
 * CPU use between two samples, in percent of one core (100 = one core busy the whole
 * time, 200 = two). Returns 0 when the interval is empty or the counter went backwards
 * (a restarted process).
 */
export function cpuPercentBetween(prev: CpuSample, next: CpuSample, ticksPerSecond: number): number {
  const wallSeconds = (next.atMs - prev.atMs) / 1000;
  const cpuSeconds = (next.cpu - prev.cpu) / ticksPerSecond;
  if (wallSeconds <= 0 || cpuSeconds < 0) return 0;
  return (cpuSeconds / wallSeconds) * 100;
}
