/**
 * Why a replica stopped, in words an operator can act on. Pure: the runtime passes
 * what it knows (exit code, Docker's OOM flag and error, the last log lines).
 */
export type ExitFacts = {
  exitCode: number | null;
  oomKilled: boolean;
  memoryLimitMb?: number | null;
  /** Docker's State.Error (the container could not start) */
  startError?: string | null;
  /** the last lines of the replica's output, if read */
  logTail?: string[];
};

export function describeExit(f: ExitFacts): string {
  if (f.oomKilled) {
    const limit = f.memoryLimitMb ? ` of ${f.memoryLimitMb} MiB` : "";
    return `killed by the kernel: out of memory (it reached its memory limit${limit})`;
  }
  if (f.startError) return `could not start: ${f.startError}`;
  const inUse = (f.logTail ?? []).map((l) => /EADDRINUSE[^\n]*?(\d{1,3}(?:\.\d{1,3}){3}:\d+|:::\d+|\[[^\]]+\]:\d+)/.exec(l)).find(Boolean);
  if (inUse) return `could not listen: ${inUse[1]} is already in use by another program`;
  if ((f.logTail ?? []).some((l) => l.includes("EADDRINUSE"))) return "could not listen: its port is already in use by another program";
  switch (f.exitCode) {
    case null:
      return "not running (exit code unknown)";
    case 0:
      return "exited normally (code 0)";
    case 137:
      return "killed (SIGKILL, exit code 137)";
    case 143:
      return "stopped by SIGTERM (exit code 143)";
    default:
      return `exited with code ${f.exitCode}`;
  }
}
