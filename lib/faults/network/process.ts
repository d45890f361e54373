/**
 * The fault proxy as a process of its own (proxy-main.ts): started detached, so the
 * traffic through it and the fault outlive a panel restart; found again by its pid file
 * and its command line (a reused pid is never signalled); stopped by pid. It runs as
 * the replicas' unprivileged user when the panel is root (lib/runtime/replica-user.ts):
 * from the checkout with tsx when that user can read it, else as one bundled file
 * published where it can (as the replica app is, lib/runtime/file-access.ts).
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import { env } from "@/lib/env";
import { livePidFromFile } from "@/lib/process/identity";
import { writePidFile } from "@/lib/process/pid-file";
import { readCmdlineSync } from "@/lib/process/procfs";
import { spawnUntilReady } from "@/lib/process/spawn";
import { stopWithEscalation } from "@/lib/process/stop";
import { publishCopy, whyUnreadable } from "@/lib/runtime/file-access";
import { resolveRunAs, type RunAs } from "@/lib/runtime/replica-user";
import type { FaultEffects } from "@/lib/faults/network/proxy";

/** Loopback only: the proxy is the balancer's hop, never reachable from elsewhere. */
export const PROXY_HOST = "127.0.0.1";
const ENTRY = path.join("lib", "faults", "network", "proxy-main.ts");
const STOP_STEPS = [["SIGTERM", 4000], ["SIGKILL", 2000]] as const;

export type ProxyFiles = { pidFile: string; logFile: string };

/** Where one replica's proxy keeps its pid and log: <DATA_DIR>/faults/network/<replica>.{pid,log}. */
export function proxyFiles(replicaId: string, dataDir = env().dataDir): ProxyFiles {
  const safe = replicaId.replace(/[^A-Za-z0-9_-]/g, "");
  const dir = path.join(dataDir, "faults", "network");
  return { pidFile: path.join(dir, `${safe}.pid`), logFile: path.join(dir, `${safe}.log`) };
}

/** Is `pid` a fault proxy (listening on `port`, when given)? Its command line says so. */
export function isFaultProxy(pid: number, port?: number): boolean {
  const args = (readCmdlineSync(pid) ?? "").split("\0");
  const at = args.indexOf("--listen");
  const isProxy = args.some((a) => a.endsWith(ENTRY) || (a.startsWith(PUBLISH_DIR) && a.endsWith(BUNDLE_NAME))) && at >= 0;
  return isProxy && (port === undefined || args[at + 1] === `${PROXY_HOST}:${port}`);
}

/** The pid of the live proxy recorded for this replica (on `port`, when given), or null. */
export function liveProxyPid(files: ProxyFiles, port?: number): Promise<number | null> {
  return livePidFromFile(files.pidFile, (pid) => isFaultProxy(pid, port));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: PROXY_HOST, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function logTail(file: string): Promise<string> {
  return (await readFile(file, "utf8").catch(() => "")).slice(-1500).trim();
}

/** Where a bundled proxy is published for the replica user (beside the replica app's published copy). */
const PUBLISH_DIR = "/var/lib/switchyard/fault-proxy";
const BUNDLE_NAME = "fault-proxy.mjs";

/**
 * The proxy as one plain JavaScript file (esbuild, which tsx brings along): for a replica
 * user who cannot read the panel's checkout (a folder in the way), published where it can.
 */
async function bundledEntry(appRoot: string, who: RunAs, tmpDir: string): Promise<string> {
  const { build } = await import("esbuild");
  const out = path.join(tmpDir, BUNDLE_NAME);
  await build({ entryPoints: [path.join(appRoot, ENTRY)], bundle: true, platform: "node", format: "esm", target: "node20", outfile: out, logLevel: "silent" });
  return publishCopy(out, PUBLISH_DIR, who);
}

/** How to run the proxy as `who`: from the checkout with tsx when it can read it, else a published bundle. */
async function proxyEntry(appRoot: string, who: RunAs, tmpDir: string, forceBundle: boolean): Promise<string[]> {
  const entry = path.join(appRoot, ENTRY);
  if (!forceBundle) {
    if (!who.switched) return ["--import", "tsx", entry];
    const tsx = path.join(appRoot, "node_modules", "tsx", "package.json");
    if ((await whyUnreadable(entry, who)) === null && (await whyUnreadable(tsx, who)) === null) return ["--import", "tsx", entry];
  }
  return [await bundledEntry(appRoot, who, tmpDir)];
}

export type StartProxy = {
  files: ProxyFiles;
  port: number;
  target: { host: string; port: number };
  effects: FaultEffects;
  /** folder with package.json and node_modules (tsx); default: the panel's working directory */
  appRoot?: string;
  timeoutMs?: number;
  /** run the published bundle even when the checkout is readable (tests) */
  forceBundle?: boolean;
};

/** Start a proxy on 127.0.0.1:`port`, wait until it accepts, record its pid; returns the pid. */
export async function startProxyProcess(opts: StartProxy): Promise<number> {
  const appRoot = opts.appRoot ?? process.cwd();
  await mkdir(path.dirname(opts.files.pidFile), { recursive: true, mode: 0o700 });
  await rm(opts.files.pidFile, { force: true });
  const runAs = await resolveRunAs(env().REPLICA_USER);
  const entry = await proxyEntry(appRoot, runAs, path.dirname(opts.files.pidFile), opts.forceBundle === true);
  const args = [...entry, "--listen", `${PROXY_HOST}:${opts.port}`, "--target", `${opts.target.host}:${opts.target.port}`, "--effects", JSON.stringify(opts.effects)];
  const { ready } = await spawnUntilReady(process.execPath, args, {
    cwd: appRoot,
    logFile: opts.files.logFile,
    logMode: 0o600,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production" },
    ...(runAs.switched ? { uid: runAs.uid, gid: runAs.gid } : {}),
    timeoutMs: opts.timeoutMs ?? 15_000,
    intervalMs: 50,
    killSignal: "SIGKILL",
    ready: async (proc) => (proc.child.pid !== undefined && proc.exit() === null && (await accepts(opts.port)) ? proc.child.pid : null),
    exited: async (exit) => {
      const how = "error" in exit ? exit.error.message : (exit.signal ?? `code ${exit.code}`);
      return new AppError("runtime_error", `the fault proxy on ${PROXY_HOST}:${opts.port} exited (${how}) during start: ${await logTail(opts.files.logFile)}`);
    },
    timedOut: async () => new AppError("runtime_error", `the fault proxy on ${PROXY_HOST}:${opts.port} did not accept connections in time: ${await logTail(opts.files.logFile)}`),
  });
  await writePidFile(opts.files.pidFile, ready);
  return ready;
}

/** Stop the recorded proxy (if it still runs and is ours; on `port`, when given) and remove its pid file. Idempotent. */
export async function stopProxyProcess(files: ProxyFiles, port: number | undefined, pid: number | null): Promise<void> {
  const live = (await liveProxyPid(files, port)) ?? (pid !== null && isFaultProxy(pid, port) ? pid : null);
  if (live !== null) await stopWithEscalation(live, STOP_STEPS);
  await rm(files.pidFile, { force: true });
}
