/** Commands run with an argv array (never a shell string); a failure is an ExecError that keeps what the command said. */
import { execFile } from "node:child_process";

export type ExecOptions = { timeoutMs: number; cwd?: string };

/** A command that could not run or did not succeed, with its own output and status. */
export class ExecError extends Error {
  constructor(
    readonly argv: readonly string[],
    message: string,
    /** the exit status; null when it did not exit by itself (not found, killed, timed out) */
    readonly exitCode: number | null,
    /** the errno when it could not be run, e.g. "ENOENT" */
    readonly errno: string | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "ExecError";
  }

  /** stderr, then stdout, trimmed, without empty lines: what the command itself said. */
  get output(): string {
    return `${this.stderr}\n${this.stdout}`
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .join("\n");
  }
}

export function isExecError(e: unknown): e is ExecError {
  return e instanceof ExecError;
}

/** Run argv[0] with the rest as its arguments; resolves with its output, rejects with an ExecError. */
export function exec(argv: readonly string[], opts: ExecOptions): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    if (argv.length === 0) {
      reject(new ExecError(argv, "empty command", null, null, null, "", ""));
      return;
    }
    execFile(argv[0], argv.slice(1), { timeout: opts.timeoutMs, cwd: opts.cwd, encoding: "utf8" }, (err, stdout, stderr) => {
      if (!err) {
        resolve({ stdout, stderr });
        return;
      }
      const e = err as NodeJS.ErrnoException & { code?: string | number; signal?: NodeJS.Signals | null };
      const exitCode = typeof e.code === "number" ? e.code : null;
      const errno = typeof e.code === "string" ? e.code : null;
      reject(new ExecError(argv, e.message, exitCode, errno, e.signal ?? null, String(stdout ?? ""), String(stderr ?? "")));
    });
  });
}
