/** The nginx engine's options and the files it keeps. */
import { statSync } from "node:fs";
import path from "node:path";
import { nginxPaths, type NginxPaths } from "@/lib/engines/nginx/render";

export type NginxEngineOptions = {
  dataDir: string;
  listen: { host: string; port: number };
  /** nginx binary; default "nginx" (from PATH) */
  binary?: string;
  /** supervised: the panel starts and reloads nginx; external: nginx runs elsewhere (a container) and `reloadCommand` reloads it */
  mode: "supervised" | "external";
  /** live config file; default <dataDir>/nginx/nginx.conf. External mode: the file the external nginx reads (shared volume). */
  configPath?: string;
  /** external mode: argv that makes the external nginx reload, e.g. ["docker", "exec", "lb", "nginx", "-s", "reload"] */
  reloadCommand?: string[];
  /** external mode: argv that makes the external nginx reopen its logs (after the panel renamed the access log); default `nginx -s reopen -c CONFIG -p PREFIX` */
  reopenCommand?: string[];
  /** the panel rotates the access log once it is this big; default 32 MiB */
  accessLogMaxBytes?: number;
  /** `user` for the workers when nginx starts as root; default: none (nginx's nobody) when the data folder is world-traversable, else "root" */
  workerUser?: string | null;
  /** how long server changes are collected into one reload; default 200 ms */
  batchMs?: number;
  /** how long a reload or a start may take until new workers answer; default 10 s */
  reloadTimeoutMs?: number;
};

/**
 * Files under <dataDir>/nginx (the `-p` prefix): nginx.conf (live), nginx.conf.bak
 * (previous, for rollback), nginx.pid, logs/error.log, logs/access.log (one line per
 * request; the panel rotates it to logs/access.log.1 and deletes that once read),
 * logs/startup.log, temp/* (body and proxy buffers), model.json (the BalancerConfig
 * behind the live file).
 */
export type NginxEnginePaths = NginxPaths & { model: string; startupLog: string };

export function nginxEnginePaths(opts: NginxEngineOptions): NginxEnginePaths {
  const base = nginxPaths(opts.dataDir);
  return {
    ...base,
    config: path.resolve(opts.configPath ?? base.config),
    model: path.join(base.prefix, "model.json"),
    startupLog: path.join(base.prefix, "logs", "startup.log"),
  };
}

/** Does every existing folder from `dir` up to / let others traverse it (o+x)? */
function worldTraversable(dir: string): boolean {
  let d = path.resolve(dir);
  for (;;) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: the engine creates it 0755
    }
    const up = path.dirname(d);
    if (up === d) return true;
    d = up;
  }
}

/** The `user` nginx's workers run as (see NginxEngineOptions.workerUser). */
export function workerUserOf(opts: NginxEngineOptions, prefix: string): string | null {
  if (opts.workerUser !== undefined) return opts.workerUser;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null; // not root: workers run as us anyway
  return worldTraversable(prefix) ? null : "root";
}
