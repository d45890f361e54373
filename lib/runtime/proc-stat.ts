/**
 * Pure readers of Linux /proc text (no I/O here, so they are unit-tested on
 * captured samples) and the CPU-percent arithmetic shared by the runtimes.
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
};

/**
 * Parses /proc/<pid>/stat. The command name (field 2) sits in parentheses and may
 * itself hold spaces and parentheses, so fields are counted after the last ")".
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const rest = text.slice(close + 2).trim().split(/\s+/);
  if (rest.length < 20) return null;
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTicks = Number(rest[19]);
  const session = Number(rest[3]);
  if (![utime, stime, startTicks, session].every(Number.isFinite)) return null;
  return { state: rest[0], cpuTicks: utime + stime, startTicks, session };
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
