import { copyFile, mkdir, readFile, rm, stat } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { AppError } from "../../core/errors";
import type { AdminState } from "../../core/rules";
import type {
  ApplyResult,
  BalancerConfig,
  BalancerServer,
  BalancerService,
  CheckResult,
  EngineStats,
  EngineStatus,
  Renderer,
  RunningEngine,
} from "../types";
import { builtinCapabilities as capabilities } from "./capabilities";
import { engineError } from "../errors";
import { parseBuiltinConfig } from "./config-schema";
import { type ControlRequest, type ControlResponse, type PingReply, controlCall } from "./control";
import { renderBuiltinConfig } from "./render";
import { BUILTIN_VERSION } from "./version";
import { writeAtomic } from "@/lib/engines/files";
import { isAlive } from "@/lib/process/identity";
import { readPidFile } from "@/lib/process/pid-file";
import { readCmdlineSync } from "@/lib/process/procfs";
import { SerialQueue } from "@/lib/process/serial-queue";
import { spawnDetached, waitUntilReady } from "@/lib/process/spawn";
import { stopWithEscalation } from "@/lib/process/stop";

/**
 * The builtin engine: a Node reverse proxy (proxy.ts) in its own detached
 * process, driven over a unix control socket. Its "config file" is the JSON
 * document render() writes; apply swaps it in memory without dropping a
 * request, so every change (servers included) is a hitless reload.
 *
 * Files under <dataDir>/builtin: config.json (live), config.json.bak (the one
 * before the last apply), control.sock, proxy.pid, proxy.log.
 */

export type BuiltinEngineOptions = {
  dataDir: string;
  /** the listener the panel expects; status() reports it until the proxy says otherwise */
  listen: { host: string; port: number };
  /** folder with package.json and node_modules (tsx); the proxy runs from there. Default: process.cwd() */
  appRoot?: string;
  /** how long start() waits for a new proxy to answer on its control socket; default 15 s */
  startTimeoutMs?: number;
};

/** The builtin proxy's renderer (exports): pure, nothing to configure. */
export const builtinRenderer = { kind: "builtin" as const, capabilities, render: renderBuiltinConfig } satisfies Renderer;

/** How long stop() waits after SIGTERM (the proxy drains for up to 5 s) before SIGKILL. */
const STOP_WAIT_MS = 8_000;
/** Linux sun_path holds 108 bytes including the terminating NUL. */
const MAX_UNIX_PATH = 107;

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Can we bind host:port right now? null if yes, else the error code. */
function bindError(listen: { host: string; port: number }): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ host: listen.host, port: listen.port, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

function serverKeys(config: BalancerConfig): string[] {
  return config.services.flatMap((s) => s.servers.map((srv) => `${s.name}/${srv.name}`)).sort();
}

export function createBuiltinEngine(opts: BuiltinEngineOptions) {
  const dir = path.join(opts.dataDir, "builtin");
  const configPath = path.join(dir, "config.json");
  const backupPath = `${configPath}.bak`;
  const socketPath = path.join(dir, "control.sock");
  const pidPath = path.join(dir, "proxy.pid");
  const logPath = path.join(dir, "proxy.log");
  const appRoot = opts.appRoot ?? process.cwd();
  const proxyMain = path.join(appRoot, "lib", "engines", "builtin", "proxy-main.ts");

  let adopted = false;
  /** pid of the proxy this object spawned (a second start() on the same object is not an adoption) */
  let spawnedPid: number | null = null;
  let lastError: string | undefined;

  // Every mutation runs one at a time, so an apply never interleaves with another.
  const queue = new SerialQueue();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => queue.run(fn);

  const call = <R extends ControlRequest>(req: R, timeoutMs?: number): Promise<ControlResponse<R["cmd"]>> => controlCall(socketPath, req, timeoutMs);

  const readPid = (): Promise<number | null> => readPidFile(pidPath);

  /** The running proxy, if its pid file names a live process that answers ping as that pid. */
  async function running(): Promise<PingReply | null> {
    const pid = await readPid();
    if (pid === null || !isAlive(pid)) return null;
    const reply = await call({ cmd: "ping" }, 2000).catch(() => null);
    return reply?.ok && reply.pid === pid ? reply : null;
  }

  async function requireRunning(): Promise<PingReply> {
    const live = await running();
    if (!live) throw new AppError("unavailable", "the builtin proxy is not running");
    return live;
  }

  async function logTail(): Promise<string> {
    const text = await readFile(logPath, "utf8").catch(() => "");
    return text.slice(-2000).trim();
  }

  async function readLive(): Promise<BalancerConfig | null> {
    const text = await readFile(configPath, "utf8").catch(() => null);
    if (text === null) return null;
    const parsed = parseBuiltinConfig(text);
    if (!parsed.ok) throw new AppError("engine_error", `the live builtin config ${configPath} is invalid: ${parsed.error}`);
    return parsed.config;
  }

  async function check(rendered: string): Promise<CheckResult> {
    const parsed = parseBuiltinConfig(rendered);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const { listen } = parsed.config;
    const live = await running();
    if (!live || live.listen?.host !== listen.host || live.listen?.port !== listen.port) {
      const err = await bindError(listen);
      if (err) return { ok: false, error: `cannot listen on ${listen.host}:${listen.port}: ${err}` };
    }
    return { ok: true };
  }

  /** Ask the proxy to load the config file, then confirm it reports exactly the expected servers. */
  async function loadAndVerify(config: BalancerConfig): Promise<string | null> {
    const loaded = await call({ cmd: "load", configPath }, 10_000).catch((e: Error) => ({ ok: false as const, error: e.message }));
    if (!loaded.ok) return `the proxy refused the config: ${loaded.error}`;
    const stats = await call({ cmd: "stats" }).catch((e: Error) => ({ ok: false as const, error: e.message }));
    if (!stats.ok) return `the proxy did not report stats after the reload: ${stats.error}`;
    const want = serverKeys(config).join(", ");
    const have = stats.servers.map((s) => `${s.service}/${s.server}`).sort().join(", ");
    return want === have ? null : `after the reload the proxy reports servers [${have}], expected [${want}]`;
  }

  async function applyLocked(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    const checked = await check(rendered);
    if (!checked.ok) return { ...checked, rolledBack: false };
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const hadPrevious = await exists(configPath);
    if (hadPrevious) await copyFile(configPath, backupPath);
    await writeAtomic(configPath, rendered);
    if (!(await running())) return { ok: true, reloaded: false }; // the file waits for start()
    const error = await loadAndVerify(config);
    if (error === null) {
      lastError = undefined;
      return { ok: true, reloaded: true };
    }
    // Roll back: the previous file goes back in place and is loaded again (the
    // proxy keeps its old config when it refuses a load, so this is a no-op then).
    if (hadPrevious) {
      await writeAtomic(configPath, await readFile(backupPath, "utf8"));
      await call({ cmd: "load", configPath }, 10_000).catch(() => null);
    } else {
      await rm(configPath, { force: true });
    }
    lastError = error;
    return { ok: false, error, rolledBack: true };
  }

  async function applyOrThrow(config: BalancerConfig): Promise<void> {
    const r = await applyLocked(renderBuiltinConfig(config), config);
    if (!r.ok) throw engineError(r, { details: { rolledBack: r.rolledBack } });
  }

  /** Change one server in the live file (no reload), so a restart keeps runtime state and weight. */
  async function persistServer(serviceName: string, serverName: string, change: Partial<BalancerServer>): Promise<void> {
    const live = await readLive();
    if (!live) return;
    const next: BalancerConfig = {
      ...live,
      services: live.services.map((s) =>
        s.name !== serviceName ? s : { ...s, servers: s.servers.map((srv) => (srv.name === serverName ? { ...srv, ...change } : srv)) },
      ),
    };
    await writeAtomic(configPath, renderBuiltinConfig(next));
  }

  async function runtimeChange(service: BalancerService, serverName: string, req: ControlRequest, change: Partial<BalancerServer>): Promise<void> {
    await requireRunning();
    const r = await call(req);
    if (!r.ok) throw new AppError("engine_error", `the proxy refused ${req.cmd} ${service.name}/${serverName}: ${r.error}`);
    await persistServer(service.name, serverName, change);
  }

  async function spawnProxy(): Promise<number> {
    await rm(socketPath, { force: true });
    await rm(pidPath, { force: true });
    const proxy = spawnDetached(process.execPath, ["--import", "tsx", proxyMain, "--config", configPath, "--control", socketPath, "--pid", pidPath], {
      cwd: appRoot,
      logFile: logPath,
      logMode: 0o600,
    });
    const { child } = proxy;
    return waitUntilReady(
      async () => {
        const live = await running();
        return live && live.pid === child.pid ? live.pid : null;
      },
      {
        timeoutMs: opts.startTimeoutMs ?? 15_000,
        intervalMs: 100,
        failed: async () => {
          const exit = proxy.exit();
          if (exit === null) return null;
          const exitedWith = "error" in exit ? exit.error.message : (exit.signal ?? `code ${exit.code}`);
          return new AppError("engine_error", `the builtin proxy exited (${exitedWith}) during start:\n${await logTail()}`);
        },
        timedOut: async () => {
          if (child.pid) process.kill(child.pid, "SIGKILL");
          return new AppError("engine_error", `the builtin proxy did not answer on ${socketPath} within the start timeout:\n${await logTail()}`);
        },
      },
    );
  }

  /** Is `pid` our proxy? (so stop() never signals a stranger that reused the pid) */
  async function isOurProxy(pid: number): Promise<boolean> {
    const live = await running();
    if (live?.pid === pid) return true;
    const cmdline = readCmdlineSync(pid) ?? "";
    return cmdline.includes("proxy-main") && cmdline.includes(socketPath);
  }

  const engine = {
    kind: "builtin" as const,
    capabilities,

    render: renderBuiltinConfig,

    check,

    apply: (rendered: string, config: BalancerConfig) => exclusive(() => applyLocked(rendered, config)),

    liveConfig: () => readFile(configPath, "utf8").catch(() => null),

    addServer: (service: BalancerService, server: BalancerServer) =>
      exclusive(async () => {
        const live = (await readLive()) ?? { listen: opts.listen, services: [] };
        const existing = live.services.find((s) => s.name === service.name);
        const base = existing ?? { ...service, servers: service.servers.filter((s) => s.name !== server.name) };
        const updated = { ...base, servers: [...base.servers.filter((s) => s.name !== server.name), server] };
        const services = existing ? live.services.map((s) => (s.name === service.name ? updated : s)) : [...live.services, updated];
        await applyOrThrow({ ...live, services });
      }),

    removeServer: (service: BalancerService, serverName: string) =>
      exclusive(async () => {
        const live = await readLive();
        const existing = live?.services.find((s) => s.name === service.name);
        if (!live || !existing?.servers.some((s) => s.name === serverName)) return;
        const services = live.services.map((s) => (s.name === service.name ? { ...s, servers: s.servers.filter((srv) => srv.name !== serverName) } : s));
        await applyOrThrow({ ...live, services });
      }),

    setServerState: (service: BalancerService, serverName: string, state: AdminState) =>
      exclusive(() => runtimeChange(service, serverName, { cmd: "setState", service: service.name, server: serverName, state }, { adminState: state })),

    setWeight: (service: BalancerService, serverName: string, weight: number) =>
      exclusive(() => runtimeChange(service, serverName, { cmd: "setWeight", service: service.name, server: serverName, weight }, { weight })),

    async stats(): Promise<EngineStats> {
      await requireRunning();
      const r = await call({ cmd: "stats" });
      if (!r.ok) throw new AppError("engine_error", `the proxy did not report stats: ${r.error}`);
      return { at: r.at, servers: r.servers };
    },

    start: (initial: BalancerConfig) =>
      exclusive(async () => {
        if (Buffer.byteLength(socketPath) > MAX_UNIX_PATH) {
          throw new AppError("bad_request", `the data folder path is too long for a unix socket (${socketPath} is over ${MAX_UNIX_PATH} bytes): choose a shorter DATA_DIR`);
        }
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const live = await running();
        if (live) {
          adopted = live.pid !== spawnedPid;
          lastError = undefined;
          return;
        }
        const rendered = renderBuiltinConfig(initial);
        const checked = await check(rendered);
        if (!checked.ok) {
          lastError = checked.error;
          throw engineError(checked, { message: `cannot start the builtin proxy: ${checked.error}` });
        }
        await writeAtomic(configPath, rendered);
        try {
          spawnedPid = await spawnProxy();
        } catch (e) {
          lastError = (e as Error).message;
          throw e;
        }
        adopted = false;
        lastError = undefined;
      }),

    stop: () =>
      exclusive(async () => {
        const pid = await readPid();
        adopted = false;
        if (pid === null || !isAlive(pid) || !(await isOurProxy(pid))) {
          await rm(socketPath, { force: true });
          await rm(pidPath, { force: true });
          return;
        }
        await stopWithEscalation(pid, [["SIGTERM", STOP_WAIT_MS], ["SIGKILL", 2000]]);
        await rm(socketPath, { force: true });
        await rm(pidPath, { force: true });
      }),

    async status(): Promise<EngineStatus> {
      const live = await running();
      return {
        kind: "builtin",
        running: live !== null,
        version: live?.version ?? BUILTIN_VERSION,
        mode: "supervised",
        pid: live?.pid ?? null,
        listen: live?.listen ?? opts.listen,
        location: configPath,
        adopted: live !== null && adopted,
        ...(lastError ? { error: lastError } : {}),
      };
    },
  } satisfies RunningEngine;

  return engine;
}

export type BuiltinEngine = ReturnType<typeof createBuiltinEngine>;
export { renderBuiltinConfig } from "./render";
export { parseBuiltinConfig } from "./config-schema";
