/**
 * What the throughput benchmarks share: wrk, waiting for a port, CPU time of a balancer's
 * session from /proc, starting a process in a session of its own, medians with spread.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const TICKS = 100; // getconf CLK_TCK
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

export function has(bin: string): boolean {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin"]);
  return dirs.some((d) => fs.existsSync(path.join(d, bin)));
}

export async function wrk(port: number, connections: number, seconds: number): Promise<{ rps: number; requests: number; errors: string | null }> {
  const { stdout } = await run("wrk", ["-t", "2", "-c", String(connections), "-d", `${seconds}s`, `http://127.0.0.1:${port}/`], { timeout: (seconds + 20) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(stdout);
  return { rps, requests, errors: errors ? errors[0] : null };
}

export async function waitHttp(port: number) {
  for (let i = 0; i < 150; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`nothing answers on ${port}`);
}

export type ProcRow = { pid: number; ppid: number; session: number; cpuTicks: number; cmd: string };

/** Every process from /proc: its parent, session, CPU ticks so far (utime+stime) and command line. */
export function procTable(): ProcRow[] {
  const rows: ProcRow[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      rows.push({ pid: Number(name), ppid: Number(f[1]), session: Number(f[3]), cpuTicks: Number(f[11]) + Number(f[12]), cmd: fs.readFileSync(`/proc/${name}/cmdline`, "utf8") });
    } catch {
      /* gone */
    }
  }
  return rows;
}

/** CPU ticks of every process in the session of the first process whose command line holds `marker`. */
export function sessionCpu(marker: string): number {
  const table = procTable();
  const leader = table.find((r) => r.cmd.includes(marker));
  if (!leader) throw new Error(`no process with ${marker} in its command line`);
  return table.filter((r) => r.session === leader.session).reduce((s, r) => s + r.cpuTicks, 0);
}

/** Started detached: a session (and process group) of its own, like the engines' balancers. */
export function spawnOwnSession(command: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { detached: true, stdio: "ignore", ...(env ? { env } : {}) });
  child.unref();
  return child;
}

/** Ends a child started with spawnOwnSession, with its whole process group. */
export function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const spread = (xs: number[], d: number) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;

/** Per round, `key`'s req/s over `against`'s in the same round (windows without a partner are left out). */
export function roundRatios(windows: readonly { round: number; key: string; rps: number }[], key: string, against: string): number[] {
  return windows
    .filter((w) => w.key === key)
    .map((w) => {
      const b = windows.find((x) => x.round === w.round && x.key === against);
      return b && b.rps > 0 ? w.rps / b.rps : NaN;
    })
    .filter((r) => Number.isFinite(r));
}

/** The hand-written minimal HAProxy config of the benchmarks' baseline. */
export function minimalHaproxyConfig(listenPort: number, replicaPorts: readonly number[]): string {
  return [
    "global",
    "  nbthread 2",
    "  maxconn 4000",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 30s",
    "  timeout server 30s",
    "frontend fe",
    `  bind 127.0.0.1:${listenPort}`,
    "  default_backend be",
    "backend be",
    "  balance roundrobin",
    ...replicaPorts.map((p, i) => `  server s${i} 127.0.0.1:${p}`),
    "",
  ].join("\n");
}
