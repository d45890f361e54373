/**
 * Test helper: runs the replica app (replica/server.js) as a real child process
 * and waits until its data port answers /health.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";

/** Walks up from this file (or the working directory) to the folder holding replica/server.js. */
function findRepoRoot(): string {
  const starts = [typeof __dirname === "string" ? __dirname : "", process.cwd()].filter(Boolean);
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      if (existsSync(path.join(dir, "replica", "server.js")) && existsSync(path.join(dir, "package.json"))) return dir;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error("cannot find the repository root (a folder with package.json and replica/server.js)");
}

export const REPLICA_SERVER_JS = path.join(findRepoRoot(), "replica", "server.js");

export type StartReplicaOptions = {
  port: number;
  adminPort: number;
  id: string;
  token?: string;
  memoryLimitMb?: number;
  service?: string;
  /** Extra environment for the child (e.g. MEMORY_THRESHOLD_PERCENT). */
  env?: Record<string, string>;
  /** How long to wait for /health, default 10 s. */
  startTimeoutMs?: number;
};

export type ReplicaProcess = {
  id: string;
  port: number;
  adminPort: number;
  token: string;
  pid: number;
  /** The child process (exit code, output). */
  child: ChildProcess;
  /** Output collected so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, wait for exit; SIGKILL after 5 s. Safe to call twice. */
  stop(): Promise<void>;
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True once /health answers (any status) from this replica: a stray process on the port does not count. */
async function answers(port: number, id: string): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.headers.get("x-replica") === id;
  } catch {
    return false;
  }
}

/** True once the child has exited (by code or signal). */
export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true when the child exits within `ms`, false otherwise. */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startReplica(opts: StartReplicaOptions): Promise<ReplicaProcess> {
  const token = opts.token ?? randomBytes(16).toString("hex");
  const child = spawn(process.execPath, [REPLICA_SERVER_JS], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      NODE_ENV: "test",
      PORT: String(opts.port),
      ADMIN_PORT: String(opts.adminPort),
      ADMIN_TOKEN: token,
      REPLICA_ID: opts.id,
      SERVICE_NAME: opts.service ?? "test",
      MEMORY_LIMIT_MB: String(opts.memoryLimitMb ?? 256),
      // it exits when this test process dies mid-run (killed), instead of holding its ports
      EXIT_WITH_PARENT: "1",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));

  const stop = async (): Promise<void> => {
    if (exited(child)) return;
    child.kill("SIGTERM");
    if (!(await waitExit(child, 5000))) {
      child.kill("SIGKILL");
      await waitExit(child, 5000);
    }
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  for (;;) {
    if (exited(child)) {
      throw new Error(`replica ${opts.id} exited (code ${child.exitCode}, signal ${child.signalCode}) before answering /health on port ${opts.port}:\n${out}`);
    }
    if (await answers(opts.port, opts.id)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`replica ${opts.id} did not answer /health on 127.0.0.1:${opts.port} within the start timeout:\n${out}`);
    }
    await sleep(50);
  }

  return {
    id: opts.id,
    port: opts.port,
    adminPort: opts.adminPort,
    token,
    pid: child.pid!,
    child,
    output: () => out,
    stop,
  };
}
