import { mkdir, readFile, rm } from "node:fs/promises";
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
import type { ReloadResult } from "@/lib/engines/lifecycle/apply";
import { FileEngine, configFile } from "@/lib/engines/lifecycle/file-engine";
import { addServerEdit, hasServer, patchServerEdit, removeServerEdit, serverMismatch, withServers, type ServerEdit } from "@/lib/engines/lifecycle/model-edits";
import { livePidFromFile } from "@/lib/process/identity";
import { readCmdlineSync } from "@/lib/process/procfs";
import { spawnUntilReady } from "@/lib/process/spawn";

/**
 * The builtin engine: a Node reverse proxy (proxy.ts) in its own detached
 * process, driven over a unix control socket, plugged into the shared file-engine
 * lifecycle (lib/engines/lifecycle). Its "config file" is the JSON document render()
 * writes, and also its stored model; apply swaps it in memory without dropping a
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
  /** how long start() waits for a new proxy to answer on its control socket; default 30 s (a primary and its workers boot at once) */
  startTimeoutMs?: number;
  /** processes serving traffic (BUILTIN_WORKERS): 1 serves in one process; 0 or absent, one per core (issue 18) */
  workers?: number;
  /** the most keep-alive connections to one server, all workers together (BUILTIN_UPSTREAM_CONNECTIONS); default 64 */
  upstreamConnections?: number;
};

/** The builtin proxy's renderer (exports): pure, nothing to configure. */
export const builtinRenderer = { kind: "builtin" as const, capabilities, render: renderBuiltinConfig } satisfies Renderer;

/** SIGTERM: the proxy drains for up to 5 s; SIGKILL after 8 s. */
const STOP_STEPS = [["SIGTERM", 8_000], ["SIGKILL", 2000]] as const;
/** Linux sun_path holds 108 bytes including the terminating NUL. */
const MAX_UNIX_PATH = 107;

/** Can we bind host:port right now? null if yes, else the error code. */
function bindError(listen: { host: string; port: number }): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ host: listen.host, port: listen.port, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

export function createBuiltinEngine(opts: BuiltinEngineOptions) {
  const dir = path.join(opts.dataDir, "builtin");
  const file = configFile(path.join(dir, "config.json"));
  const configPath = file.path;
  const socketPath = path.join(dir, "control.sock");
  const pidPath = path.join(dir, "proxy.pid");
  const logPath = path.join(dir, "proxy.log");
  const appRoot = opts.appRoot ?? process.cwd();
  const proxyMain = path.join(appRoot, "lib", "engines", "builtin", "proxy-main.ts");

  /** The live file is the stored model: it is written with every edit, nothing else to keep. */
  async function readLive(): Promise<BalancerConfig | null> {
    const text = await file.read();
    if (text === null) return null;
    const parsed = parseBuiltinConfig(text);
    if (!parsed.ok) throw new AppError("engine_error", `the live builtin config ${configPath} is invalid: ${parsed.error}`);
    return parsed.config;
  }

  const lifecycle = new FileEngine({ kind: "builtin", mode: "supervised", file, model: { read: readLive, write: async () => undefined }, render: renderBuiltinConfig });

  const call = <R extends ControlRequest>(req: R, timeoutMs?: number): Promise<ControlResponse<R["cmd"]>> => controlCall(socketPath, req, timeoutMs);

  /** The running proxy, if its pid file names a live process that answers ping as that pid. */
  async function running(): Promise<PingReply | null> {
    const pid = await livePidFromFile(pidPath);
    if (pid === null) return null;
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

  /** Ask the proxy to load the config file (a proxy that is not running reads it when it starts), then confirm it reports exactly the expected servers. */
  async function loadAndVerify(config: BalancerConfig): Promise<ReloadResult> {
    if (!(await running())) return { ok: true, reloaded: false };
    const loaded = await call({ cmd: "load", configPath }, 10_000).catch((e: Error) => ({ ok: false as const, error: e.message }));
    if (!loaded.ok) return { ok: false, error: `the proxy refused the config: ${loaded.error}` };
    const stats = await call({ cmd: "stats" }).catch((e: Error) => ({ ok: false as const, error: e.message }));
    if (!stats.ok) return { ok: false, error: `the proxy did not report stats after the reload: ${stats.error}` };
    const mismatch = serverMismatch(config, stats.servers.map((s) => `${s.service}/${s.server}`));
    return mismatch === null ? { ok: true } : { ok: false, error: `after the reload ${mismatch}` };
  }

  /** Check, back up, write, load and verify; a refused load puts the previous file back (the proxy keeps its old config when it refuses, so loading it again is a no-op then). */
  function applyNow(rendered: string, config: BalancerConfig): Promise<ApplyResult> {
    return lifecycle.applyNow(rendered, {
      check,
      beforeWrite: () => mkdir(dir, { recursive: true, mode: 0o700 }).then(() => undefined),
      reload: () => loadAndVerify(config),
      reloadPrevious: async () => {
        await call({ cmd: "load", configPath }, 10_000).catch(() => null);
        return { ok: true };
      },
      withoutPrevious: "remove",
    });
  }

  /** A server change: the proxy has no runtime add or remove, so the edited live model is applied whole (hitless). */
  async function applyEdit(service: BalancerService, edit: ServerEdit): Promise<void> {
    const live = (await readLive()) ?? { listen: opts.listen, services: [] };
    const next = withServers(live, service, edit);
    const r = await applyNow(renderBuiltinConfig(next), next);
    if (!r.ok) throw engineError(r, { details: { rolledBack: r.rolledBack } });
  }

  /** State and weight change at run time; the live file gets them too (no reload), so a restart keeps them. */
  async function runtimeChange(service: BalancerService, serverName: string, req: ControlRequest, change: { weight?: number; adminState?: AdminState }): Promise<void> {
    await requireRunning();
    const r = await call(req);
    if (!r.ok) throw new AppError("engine_error", `the proxy refused ${req.cmd} ${service.name}/${serverName}: ${r.error}`);
    if (hasServer(await readLive(), service.name, serverName)) await lifecycle.editModel(service, patchServerEdit(serverName, change));
  }

  async function spawnProxy(): Promise<number> {
    await rm(socketPath, { force: true });
    await rm(pidPath, { force: true });
    const tuning = [
      ...(opts.workers !== undefined ? ["--workers", String(opts.workers)] : []),
      ...(opts.upstreamConnections !== undefined ? ["--upstream-connections", String(opts.upstreamConnections)] : []),
    ];
    const { ready } = await spawnUntilReady(process.execPath, ["--import", "tsx", proxyMain, "--config", configPath, "--control", socketPath, "--pid", pidPath, ...tuning], {
      cwd: appRoot,
      logFile: logPath,
      logMode: 0o600,
      timeoutMs: opts.startTimeoutMs ?? 30_000,
      intervalMs: 100,
      killSignal: "SIGKILL",
      ready: async (proxy) => {
        const live = await running();
        return live && live.pid === proxy.child.pid ? live.pid : null;
      },
      exited: async (exit) => {
        const exitedWith = "error" in exit ? exit.error.message : (exit.signal ?? `code ${exit.code}`);
        return new AppError("engine_error", `the builtin proxy exited (${exitedWith}) during start:\n${await logTail()}`);
      },
      timedOut: async () => new AppError("engine_error", `the builtin proxy did not answer on ${socketPath} within the start timeout:\n${await logTail()}`),
    });
    return ready;
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

    apply: (rendered: string, config: BalancerConfig) => lifecycle.exclusive(() => applyNow(rendered, config)),

    liveConfig: () => lifecycle.liveConfig(),

    servedConfig: () => lifecycle.readModel(),

    addServer: (service: BalancerService, server: BalancerServer) => lifecycle.exclusive(() => applyEdit(service, addServerEdit(server))),

    removeServer: (service: BalancerService, serverName: string) =>
      lifecycle.exclusive(async () => {
        if (hasServer(await readLive(), service.name, serverName)) await applyEdit(service, removeServerEdit(serverName));
      }),

    setServerState: (service: BalancerService, serverName: string, state: AdminState) =>
      lifecycle.exclusive(() => runtimeChange(service, serverName, { cmd: "setState", service: service.name, server: serverName, state }, { adminState: state })),

    setWeight: (service: BalancerService, serverName: string, weight: number) =>
      lifecycle.exclusive(() => runtimeChange(service, serverName, { cmd: "setWeight", service: service.name, server: serverName, weight }, { weight })),

    /** The edited model loaded whole through the control socket (hitless: in-flight requests finish on the old address). */
    setServerAddress: (service: BalancerService, serverName: string, host: string, port: number) =>
      lifecycle.exclusive(() => applyEdit(service, patchServerEdit(serverName, { host, port }))),

    async stats(): Promise<EngineStats> {
      await requireRunning();
      const r = await call({ cmd: "stats" });
      if (!r.ok) throw new AppError("engine_error", `the proxy did not report stats: ${r.error}`);
      return { at: r.at, servers: r.servers };
    },

    start: (initial: BalancerConfig) =>
      lifecycle.exclusive(async () => {
        if (Buffer.byteLength(socketPath) > MAX_UNIX_PATH) {
          throw new AppError("bad_request", `the data folder path is too long for a unix socket (${socketPath} is over ${MAX_UNIX_PATH} bytes): choose a shorter DATA_DIR`);
        }
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const live = await running();
        if (live) {
          lifecycle.found(live.pid);
          lifecycle.lastError = undefined;
          return;
        }
        const rendered = renderBuiltinConfig(initial);
        const checked = await check(rendered);
        if (!checked.ok) {
          lifecycle.lastError = checked.error;
          throw engineError(checked, { message: `cannot start the builtin proxy: ${checked.error}` });
        }
        await file.write(rendered);
        try {
          lifecycle.started(await spawnProxy());
        } catch (e) {
          lifecycle.lastError = (e as Error).message;
          throw e;
        }
      }),

    stop: () =>
      lifecycle.exclusive(async () => {
        await lifecycle.stopProcess(await livePidFromFile(pidPath, isOurProxy), STOP_STEPS, [socketPath, pidPath]);
      }),

    async status(): Promise<EngineStatus> {
      const live = await running();
      return lifecycle.status({
        running: live !== null,
        version: live?.version ?? BUILTIN_VERSION,
        pid: live?.pid ?? null,
        listen: live?.listen ?? opts.listen,
        adopted: live !== null && lifecycle.adopted,
      });
    },
  } satisfies RunningEngine;

  return engine;
}

export type BuiltinEngine = ReturnType<typeof createBuiltinEngine>;
export { renderBuiltinConfig } from "./render";
export { parseBuiltinConfig } from "./config-schema";
