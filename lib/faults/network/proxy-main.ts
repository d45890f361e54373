/**
 * Entry point of one fault proxy process (see proxy.ts):
 *
 *   node --import tsx proxy-main.ts --listen 127.0.0.1:19000 --target 127.0.0.1:29400 --effects '{"latencyMs":200,...}'
 *
 * Started detached by the network-fault kind (process.ts), so it keeps the fault (and
 * the traffic through it) while the panel restarts; a later resume adopts it by pid.
 * SIGTERM/SIGINT: stop accepting, let forwarded requests finish for up to 2 s, exit.
 */
import { startFaultProxy, type FaultEffects } from "./proxy";

type Args = { listen: string; target: string; effects: string };

/** host:port; the host an IPv4 address or a DNS name (a replica on a Docker bridge network, an external endpoint). */
function hostPort(what: string, v: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9][A-Za-z0-9.-]{0,252}):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`--${what} must be a host (IPv4 or DNS name) and port, got ${JSON.stringify(v)}`);
  return { host: m[1], port: Number(m[2]) };
}

function effectsOf(text: string): FaultEffects {
  const v = JSON.parse(text) as Partial<FaultEffects>;
  const latencyMs = Number(v.latencyMs ?? 0);
  const errorRate = Number(v.errorRate ?? 0);
  if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > 60_000) throw new Error("effects.latencyMs must be an integer 0-60000");
  if (!(errorRate >= 0 && errorRate <= 1)) throw new Error("effects.errorRate must be 0-1");
  return { latencyMs, errorRate, reset: v.reset === true, blackhole: v.blackhole === true };
}

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if ((key === "listen" || key === "target" || key === "effects") && value) out[key] = value;
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!out.listen || !out.target || !out.effects) throw new Error("usage: proxy-main.ts --listen HOST:PORT --target HOST:PORT --effects JSON");
  return out as Args;
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} [fault-proxy ${process.pid}] ${line}\n`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const listen = hostPort("listen", args.listen);
  const target = hostPort("target", args.target);
  const effects = effectsOf(args.effects);
  const proxy = await startFaultProxy({ listen, target, effects });
  log(`listening on ${args.listen}, forwarding to ${args.target} with ${JSON.stringify(effects)}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (${JSON.stringify(proxy.counts)})`);
    void proxy.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
  log(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
