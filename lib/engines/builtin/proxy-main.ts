/**
 * Entry point of the builtin proxy process:
 *
 *   node --import tsx proxy-main.ts --config FILE --control SOCKET --pid PIDFILE
 *                                   [--workers N] [--upstream-connections M]
 *
 * Started detached by the builtin engine (index.ts) so it keeps serving while
 * the panel restarts. Loads FILE, listens, serves the control socket, writes
 * its pid. SIGTERM/SIGINT: stop accepting, let in-flight requests finish for
 * up to 5 s, exit. SIGHUP: reload FILE (like a `load` over the socket).
 *
 * --workers N (default: the machine's cores; BUILTIN_WORKERS in the panel): with N > 1 this
 * process is the primary of N workers that share the listeners (workers.ts); with 1 it
 * serves by itself. --upstream-connections M (default 64; BUILTIN_UPSTREAM_CONNECTIONS):
 * the most keep-alive connections to one server, shared out among the workers.
 */
import cluster from "node:cluster";
import os from "node:os";
import { readFile, rm } from "node:fs/promises";
import type net from "node:net";
import type { ControlRequest } from "./control";
import { forkWorker } from "./worker-fork";
// The rest is imported in main(), after the workers are forked (worker-fork.ts says why).

const DRAIN_MS = 5_000;

type Args = { config: string; control: string; pid: string; workers: number; upstreamConnections: number };

const count = (value: string, max: number, what: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${what} must be a whole number from 0 to ${max}`);
  return n;
};

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if ((key === "config" || key === "control" || key === "pid") && value) out[key] = value;
    else if (key === "workers" && value) out.workers = count(value, 64, "--workers");
    else if (key === "upstream-connections" && value) out.upstreamConnections = count(value, 10_000, "--upstream-connections");
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!out.config || !out.control || !out.pid) throw new Error("usage: proxy-main.ts --config FILE --control SOCKET --pid PIDFILE [--workers N] [--upstream-connections M]");
  // 0 or absent: one worker per core
  const workers = out.workers || os.availableParallelism();
  return { ...(out as Args), workers, upstreamConnections: out.upstreamConnections || 64 };
}

/** The upstream connections one process may open to a server: the bound shared out among the workers. */
const perProcess = (args: Args) => Math.max(1, Math.ceil(args.upstreamConnections / args.workers));

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} [${process.pid}] ${line}\n`);

async function readConfig(path: string) {
  const { parseBuiltinConfig } = await import("./config-schema");
  const parsed = parseBuiltinConfig(await readFile(path, "utf8"));
  if (!parsed.ok) throw new Error(`invalid config ${path}: ${parsed.error}`);
  return parsed.config;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (cluster.isWorker) {
    const { runWorker } = await import("./workers");
    runWorker(log, perProcess(args));
    return;
  }
  const several = args.workers > 1;
  log(`primary up after ${Math.round(process.uptime() * 1000)} ms`);
  const early = several ? Array.from({ length: args.workers }, forkWorker) : [];
  const [{ serveControl }, { BuiltinProxy }, { WorkerPool }, { BUILTIN_VERSION }, { readPidFile, writePidFile }] = await Promise.all([
    import("./control"),
    import("./proxy"),
    import("./workers"),
    import("./version"),
    import("../../process/pid-file"),
  ]);
  type WorkerPoolT = InstanceType<typeof WorkerPool>;
  let pool: WorkerPoolT | null = null;
  const proxy = new BuiltinProxy(log, {
    role: several ? { kind: "primary", onHealth: (service, server, health) => pool?.broadcastHealth({ service, server, health }) } : { kind: "single" },
    upstreamConnections: perProcess(args),
  });
  const startedAt = Date.now();
  let configPath = args.config;

  if (several) {
    pool = new WorkerPool(proxy, args.workers, log);
    await pool.start(await readConfig(configPath), early);
  } else {
    await proxy.load(await readConfig(configPath));
  }
  const workers = pool;
  const listen = proxy.listening!;
  log(`${BUILTIN_VERSION} listening on ${listen.host}:${listen.port} with ${configPath}${workers ? ` (${args.workers} workers: ${workers.pids.join(", ")})` : ""}`);

  // Loads run one at a time, so two reloads can never interleave their swaps.
  let loads = Promise.resolve();
  const load = (path: string) => {
    const run = loads.then(async () => {
      const config = await readConfig(path);
      if (workers) await workers.load(config);
      else await proxy.load(config);
      configPath = path;
      log(`loaded ${path} (generation ${proxy.generation}, ${config.services.length} services)`);
    });
    loads = run.catch(() => {});
    return run;
  };

  const handle = async (req: ControlRequest): Promise<object> => {
    switch (req.cmd) {
      case "ping":
        return { pid: process.pid, version: BUILTIN_VERSION, listen: proxy.listening, configPath, generation: proxy.generation, startedAt, workers: workers?.pids ?? [] };
      case "version":
        return { version: BUILTIN_VERSION };
      case "stats":
        return { at: Date.now(), servers: workers ? await workers.stats() : proxy.stats() };
      case "load":
        try {
          await load(req.configPath);
        } catch (e) {
          log(`load ${req.configPath} refused, the previous config keeps serving: ${(e as Error).message}`);
          throw e;
        }
        return { generation: proxy.generation };
      case "setState":
        if (workers) await workers.setState(req.service, req.server, req.state);
        else proxy.setState(req.service, req.server, req.state);
        return {};
      case "setWeight":
        if (workers) await workers.setWeight(req.service, req.server, req.weight);
        else proxy.setWeight(req.service, req.server, req.weight);
        return {};
    }
  };
  const control: net.Server = await serveControl(args.control, handle);
  await writePidFile(args.pid);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining for up to ${DRAIN_MS} ms`);
    control.close();
    if (workers) await workers.shutdown(DRAIN_MS);
    else await proxy.shutdown(DRAIN_MS);
    await rm(args.control, { force: true });
    // Remove the pid file only if it is still ours (a successor may have written its own).
    if ((await readPidFile(args.pid)) === process.pid) await rm(args.pid, { force: true });
    log("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGHUP", () => void load(configPath).catch((e) => log(`SIGHUP reload refused: ${(e as Error).message}`)));
}

// A data plane should not die of one bad request: log, keep serving.
process.on("uncaughtException", (e) => log(`uncaught: ${e.stack ?? e.message}`));
process.on("unhandledRejection", (e) => log(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));

main().catch((e) => {
  log(`fatal: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
