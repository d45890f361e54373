/** The HAProxy engine's options, the files it keeps, and the render options they make. */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { HaproxyRenderOptions } from "@/lib/engines/haproxy/render";
import { cookieSecret } from "@/lib/cookie-secret";
import { haproxyLogPort } from "@/lib/engines/haproxy/log-port";

export type HaproxyEngineOptions = {
  dataDir: string;
  listen: { host: string; port: number };
  /** haproxy binary; default "haproxy" (from PATH) */
  binary?: string;
  mode: "supervised" | "external";
  configPath?: string;
  masterSocket?: string;
  runtimeSocket?: string;
  stateFile?: string;
  /** mixed into every backend's dynamic-cookie-key; default the data folder's secret (lib/cookie-secret.ts) */
  cookieSecret?: string;
  /** global maxconn; default from the fd hard limit, at most 4096 */
  maxconn?: number;
  /** how long a reload may take until the new worker answers; default 15 s */
  reloadTimeoutMs?: number;
  /** how long start() waits for a new master to answer; default 10 s */
  startTimeoutMs?: number;
  /** UDP loopback port of the panel's request-log receiver; default the data folder's (log-port.ts); 0: no request log */
  requestLogPort?: number;
  /** the ids HAProxy's workers drop to (a root panel's ENGINE_USER, lib/engines/engine-user.ts); absent or null: none */
  runAs?: { uid: number; gid: number } | null;
};

/**
 * Files under <dataDir>/haproxy/: haproxy.cfg (live), haproxy.cfg.bak (previous, for
 * rollback), haproxy.pid (master), master.sock (master CLI), admin.sock (runtime API),
 * server-state (written before each reload), model.json (the BalancerConfig behind the
 * live file), haproxy.log (master output).
 */
export type HaproxyPaths = {
  base: string;
  config: string;
  backup: string;
  masterSocket: string;
  runtimeSocket: string;
  stateFile: string;
  pidFile: string;
  logFile: string;
  modelFile: string;
};

/* turbopackIgnore: paths from the configuration at run time, not files of the build for `next build` to trace */
export function haproxyPaths(opts: HaproxyEngineOptions): HaproxyPaths {
  const base = path.resolve(opts.dataDir, "haproxy");
  const config = path.resolve(/*turbopackIgnore: true*/ opts.configPath ?? path.join(base, "haproxy.cfg"));
  return {
    base,
    config,
    backup: `${config}.bak`,
    masterSocket: path.resolve(/*turbopackIgnore: true*/ opts.masterSocket ?? path.join(base, "master.sock")),
    runtimeSocket: path.resolve(/*turbopackIgnore: true*/ opts.runtimeSocket ?? path.join(base, "admin.sock")),
    stateFile: path.resolve(/*turbopackIgnore: true*/ opts.stateFile ?? path.join(base, "server-state")),
    pidFile: path.join(base, "haproxy.pid"),
    logFile: path.join(base, "haproxy.log"),
    modelFile: path.join(base, "model.json"),
  };
}

/** maxconn the fd hard limit allows: HAProxy needs about two fds a connection plus listeners and checks. */
function maxconnForFdLimit(): number {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(limits);
    if (m && m[1] !== "unlimited") return Math.max(100, Math.min(4096, Math.floor((Number(m[1]) - 500) / 2)));
  } catch {
    // not Linux: keep the default
  }
  return 4096;
}

export function renderOptionsOf(opts: HaproxyEngineOptions, paths: HaproxyPaths): HaproxyRenderOptions {
  return {
    runtimeSocket: paths.runtimeSocket,
    stateFile: paths.stateFile,
    maxconn: opts.maxconn ?? maxconnForFdLimit(),
    cookieSecret: opts.cookieSecret ?? cookieSecret(opts.dataDir),
    ...(opts.runAs ? { runAs: { uid: opts.runAs.uid, gid: opts.runAs.gid } } : {}),
    ...(opts.requestLogPort === 0 ? {} : { requestLog: { host: "127.0.0.1", port: opts.requestLogPort ?? haproxyLogPort(opts.dataDir) } }),
  };
}
