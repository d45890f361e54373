/**
 * Test helper: runs the REAL panel (`tsx scripts/start.ts`: migrate, build if the
 * sources are newer than .next/BUILD_ID, serve) on a loopback port with a fresh
 * temporary DATA_DIR, and waits until GET /api/health answers.
 *
 * It assumes `next build` already ran (npm test builds before the e2e project);
 * otherwise start.ts builds first, which takes a minute or two.
 *
 * stop() sends SIGTERM to the panel and waits; then it ends every process that
 * still belongs to this panel's data folder (engines and replicas run detached
 * and outlive the panel on purpose), found through /proc: a command line, working
 * directory or open file (a replica's log) inside the folder, or DATA_DIR=<folder>
 * in the environment. (Docker containers are not looked for: e2e panels use the
 * process runtime unless a test sets RUNTIME=docker and cleans up itself.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export type StartPanelOptions = {
  port: number;
  /** Extra environment for the panel (overrides the defaults below). */
  env?: Record<string, string>;
  /** How long to wait for /api/health, default 240 s (a build, if needed, counts). */
  startTimeoutMs?: number;
  /** Keep the data folder after stop() (for debugging). */
  keepData?: boolean;
  /** Use this data folder (e.g. a panel restarted on the data of a previous one) instead of a fresh one. */
  dataDir?: string;
  /** Run the panel of this checkout (a benchmark comparing two commits); default this repository. */
  root?: string;
};

export type PanelRequestInit = RequestInit & {
  /** A Cookie header value, e.g. what login() returned. */
  cookie?: string;
  /** The Origin header sent on every request; default the panel's own origin, null for none. */
  origin?: string | null;
  /** A JSON body (sets Content-Type). */
  json?: unknown;
};

export type Panel = {
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  /** Output of the panel so far (stdout and stderr). */
  output(): string;
  /**
   * SIGTERM, wait; then end what the panel left running under dataDir. Safe to call twice.
   * With keepRunning, only the panel process stops: the balancer and replicas keep serving
   * (as they do when a real panel restarts), and the data folder stays.
   */
  stop(opts?: { keepRunning?: boolean }): Promise<void>;
  /** Sign in through the API; returns the Cookie header value ("sy_session=..."). */
  login(username: string, password: string): Promise<string>;
  /** fetch() against the panel, with the panel's Origin by default. */
  request(path: string, init?: PanelRequestInit): Promise<Response>;
};

function findRepoRoot(): string {
  const starts = [typeof __dirname === "string" ? __dirname : "", process.cwd()].filter(Boolean);
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      if (fs.existsSync(path.join(dir, "scripts", "start.ts")) && fs.existsSync(path.join(dir, "package.json"))) return dir;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error("cannot find the repository root (a folder with package.json and scripts/start.ts)");
}

export const REPO_ROOT = findRepoRoot();

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Can we listen on 127.0.0.1:port right now? */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** The first free loopback port in [from, to]. */
export async function findFreePort(from: number, to: number): Promise<number> {
  for (let p = from; p <= to; p++) if (await isPortFree(p)) return p;
  throw new Error(`no free port on 127.0.0.1 in ${from}-${to}`);
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie still answers kill(0); its state in /proc says Z
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Pids (other than ours) whose command line, cwd, open files or DATA_DIR point into `dir`. */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  const marker = `DATA_DIR=${dir}`;
  const inDir = (p: string) => p === dir || p.startsWith(dir + path.sep);
  let entries: string[] = [];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return found; // not Linux: nothing to scan
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      let match = args.some((a) => a.includes(dir));
      if (!match) {
        try {
          match = inDir(fs.readlinkSync(`/proc/${pid}/cwd`));
        } catch {
          // cwd not readable (gone, or a kernel thread)
        }
      }
      if (!match) {
        // replicas started by the process runtime keep their cwd and argv, but log into the data folder
        try {
          match = fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
            try {
              return inDir(fs.readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/ \(deleted\)$/, ""));
            } catch {
              return false;
            }
          });
        } catch {
          // fds not readable
        }
      }
      if (!match) {
        try {
          const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
          match = environ.some((e) => e === marker || e.startsWith(`${marker}${path.sep}`));
        } catch {
          // environ not readable
        }
      }
      if (match) found.push(pid);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** SIGTERM everything under `dir`, wait up to `graceMs`, then SIGKILL what is left. */
export async function killProcessesUnder(dir: string, graceMs = 5000): Promise<number[]> {
  const pids = processesUnder(dir);
  if (pids.length === 0) return [];
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) await sleep(100);
  for (const pid of pids.filter(isAlive)) signal(pid, "SIGKILL");
  // processes started meanwhile (e.g. a supervisor restarting one) get a second pass
  for (const pid of processesUnder(dir)) signal(pid, "SIGKILL");
  return pids;
}

async function healthAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startPanel(opts: StartPanelOptions): Promise<Panel> {
  if (!(await isPortFree(opts.port))) throw new Error(`port 127.0.0.1:${opts.port} is taken; pick another for this panel`);
  const dataDir = opts.dataDir ?? fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-panel-")));
  const url = `http://127.0.0.1:${opts.port}`;

  // A small, explicit environment: nothing from the test runner's own DATABASE_URL,
  // ADMIN_* or NODE_ENV=test leaks into the panel.
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "production", // what npm start runs with (start.ts sets it too)
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? os.tmpdir(),
    TMPDIR: os.tmpdir(),
    LANG: "C.UTF-8",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(opts.port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    BALANCER_PORT: "18085",
    PORT_RANGE: "23000-23999",
    // every API request and answer is checked against the OpenAPI document; a violation is a 500 (lib/openapi/contract.ts)
    SWITCHYARD_CONTRACT: "1",
    SWITCHYARD_CONTRACT_LOG: path.join(REPO_ROOT, "test-results", "contract", "panels.jsonl"),
    ...opts.env,
  };
  if (process.env.DOCKER_HOST && !env.DOCKER_HOST) env.DOCKER_HOST = process.env.DOCKER_HOST;

  const root = opts.root ?? REPO_ROOT;
  const child = spawn(path.join(root, "node_modules", ".bin", "tsx"), ["scripts/start.ts"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    // its own process group, so stop() reaches tsx and the node process it starts
    detached: true,
  });
  let out = "";
  const collect = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);

  let stopped = false;
  const stop = async (stopOpts: { keepRunning?: boolean } = {}): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited(child) && child.pid) {
      signal(-child.pid, "SIGTERM");
      if (!(await waitExit(child, 15_000))) {
        signal(-child.pid, "SIGKILL");
        await waitExit(child, 5000);
      }
    }
    if (stopOpts.keepRunning) return;
    await killProcessesUnder(dataDir);
    if (!opts.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 240_000);
  for (;;) {
    if (exited(child)) {
      await stop();
      throw new Error(`the panel exited (code ${child.exitCode}, signal ${child.signalCode}) before answering ${url}/api/health:\n${out}`);
    }
    if (await healthAnswers(url)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the panel did not answer ${url}/api/health in time:\n${out}`);
    }
    await sleep(200);
  }

  const request = (p: string, init: PanelRequestInit = {}): Promise<Response> => {
    const { cookie, origin = url, json, headers: given, ...rest } = init;
    const headers = new Headers(given);
    if (origin !== null && !headers.has("origin")) headers.set("origin", origin);
    if (cookie) headers.set("cookie", cookie);
    let body = rest.body;
    if (json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(json);
    }
    return fetch(`${url}${p}`, { redirect: "manual", ...rest, headers, body });
  };

  const login = async (username: string, password: string): Promise<string> => {
    const res = await request("/api/auth/login", { method: "POST", json: { username, password } });
    if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("sy_session="));
    if (!setCookie) throw new Error("sign-in answered 200 without a sy_session cookie");
    return setCookie.split(";")[0];
  };

  return { url, port: opts.port, dataDir, pid: child.pid!, output: () => out, stop, login, request };
}
