/**
 * Entry point of the builtin proxy process:
 *
 *   node --import tsx proxy-main.ts --config FILE --control SOCKET --pid PIDFILE
 *
 * Started detached by the builtin engine (index.ts) so it keeps serving while
 * the panel restarts. Loads FILE, listens, serves the control socket, writes
 * its pid. SIGTERM/SIGINT: stop accepting, let in-flight requests finish for
 * up to 5 s, exit. SIGHUP: reload FILE (like a `load` over the socket).
 */
import { readFile, rm } from "node:fs/promises";
import type net from "node:net";
import { parseBuiltinConfig } from "./config-schema";
import { type ControlRequest, serveControl } from "./control";
import { BuiltinProxy } from "./proxy";
import { BUILTIN_VERSION } from "./version";
import { readPidFile, writePidFile } from "../../process/pid-file";

const DRAIN_MS = 5_000;

type Args = { config: string; control: string; pid: string };

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if ((key === "config" || key === "control" || key === "pid") && value) out[key] = value;
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!out.config || !out.control || !out.pid) throw new Error("usage: proxy-main.ts --config FILE --control SOCKET --pid PIDFILE");
  return out as Args;
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} [${process.pid}] ${line}\n`);

async function readConfig(path: string) {
  const parsed = parseBuiltinConfig(await readFile(path, "utf8"));
  if (!parsed.ok) throw new Error(`invalid config ${path}: ${parsed.error}`);
  return parsed.config;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const proxy = new BuiltinProxy(log);
  const startedAt = Date.now();
  let configPath = args.config;

  await proxy.load(await readConfig(configPath));
  const listen = proxy.listening!;
  log(`${BUILTIN_VERSION} listening on ${listen.host}:${listen.port} with ${configPath}`);

  // Loads run one at a time, so two reloads can never interleave their swaps.
  let loads = Promise.resolve();
  const load = (path: string) => {
    const run = loads.then(async () => {
      const config = await readConfig(path);
      await proxy.load(config);
      configPath = path;
      log(`loaded ${path} (generation ${proxy.generation}, ${config.services.length} services)`);
    });
    loads = run.catch(() => {});
    return run;
  };

  const handle = async (req: ControlRequest): Promise<object> => {
    switch (req.cmd) {
      case "ping":
        return { pid: process.pid, version: BUILTIN_VERSION, listen: proxy.listening, configPath, generation: proxy.generation, startedAt };
      case "version":
        return { version: BUILTIN_VERSION };
      case "stats":
        return { at: Date.now(), servers: proxy.stats() };
      case "load":
        try {
          await load(req.configPath);
        } catch (e) {
          log(`load ${req.configPath} refused, the previous config keeps serving: ${(e as Error).message}`);
          throw e;
        }
        return { generation: proxy.generation };
      case "setState":
        proxy.setState(req.service, req.server, req.state);
        return {};
      case "setWeight":
        proxy.setWeight(req.service, req.server, req.weight);
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
    await proxy.shutdown(DRAIN_MS);
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
