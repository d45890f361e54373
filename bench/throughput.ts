/**
 * Throughput benchmark: the same three replicas measured in one run
 *   1. direct (wrk against one replica, times 3 for the pool's capacity is NOT assumed:
 *      we spread wrk over the three with a tiny Lua-free trick — three wrk runs in parallel),
 *   2. a hand-written minimal HAProxy config (the baseline a person would write),
 *   3. Switchyard's HAProxy (rendered by lib/engines/haproxy with the default rules),
 *   4. Switchyard's nginx (when nginx is installed),
 *   5. Switchyard's builtin proxy.
 * Prints req/s and ratios against the baseline measured in this same run. Loopback only;
 * every load run is bounded (wrk -d).
 *
 *   npx tsx bench/throughput.ts [--seconds 8] [--connections 50]
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { rulesSchema } from "../lib/core/rules";
import type { BalancerConfig, RunningEngine } from "../lib/engines/types";
import { createHaproxyEngine } from "../lib/engines/haproxy";
import { createBuiltinEngine } from "../lib/engines/builtin";
import { createNginxEngine } from "../lib/engines/nginx";

const run = promisify(execFile);
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 50);
const ROOT = path.resolve(__dirname, "..");
const REPLICA_PORTS = [24901, 24903, 24905];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function has(bin: string): boolean {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin"]);
  return dirs.some((d) => fs.existsSync(path.join(d, bin)));
}

async function wrk(port: number, connections = CONNECTIONS, seconds = SECONDS): Promise<number> {
  const { stdout } = await run("wrk", ["-t", "2", "-c", String(connections), "-d", `${seconds}s`, `http://127.0.0.1:${port}/`], { timeout: (seconds + 20) * 1000 });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(stdout);
  if (errors) console.log(`   (wrk on :${port} reported: ${errors[0]})`);
  return m ? Number(m[1]) : 0;
}

async function waitHttp(port: number) {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`nothing answers on ${port}`);
}

async function main() {
  if (!has("wrk")) {
    console.log("bench: wrk is not installed (apt-get install wrk); nothing measured");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-"));
  const children: ChildProcess[] = [];
  const engines: RunningEngine[] = [];
  try {
    for (const [i, port] of REPLICA_PORTS.entries()) {
      const child = spawn(process.execPath, [path.join(ROOT, "replica", "server.js")], {
        env: { ...process.env, PORT: String(port), ADMIN_PORT: String(port + 1), ADMIN_TOKEN: "bench", REPLICA_ID: `b${i}`, SERVICE_NAME: "bench" },
        stdio: "ignore",
      });
      children.push(child);
    }
    for (const p of REPLICA_PORTS) await waitHttp(p);

    const results: { name: string; rps: number }[] = [];
    // 1. direct: three wrk runs in parallel, one per replica, connections split
    const direct = await Promise.all(REPLICA_PORTS.map((p) => wrk(p, Math.ceil(CONNECTIONS / 3))));
    results.push({ name: "direct (3 replicas, no balancer)", rps: direct.reduce((a, b) => a + b, 0) });

    const config: BalancerConfig = {
      listen: { host: "127.0.0.1", port: 24950 },
      services: [
        {
          id: "bench",
          name: "bench",
          rules: rulesSchema.parse({}),
          servers: REPLICA_PORTS.map((p, i) => ({ replicaId: `b${i}`, name: `r-b${i}`, host: "127.0.0.1", port: p, weight: 100, adminState: "ready" as const })),
        },
      ],
    };

    if (has("haproxy")) {
      // 2. the baseline: a minimal HAProxy config a person would write by hand
      const cfg = path.join(dir, "hand.cfg");
      fs.writeFileSync(
        cfg,
        [
          "global",
          "  nbthread 2",
          "  maxconn 4000",
          "defaults",
          "  mode http",
          "  timeout connect 2s",
          "  timeout client 30s",
          "  timeout server 30s",
          "frontend fe",
          "  bind 127.0.0.1:24960",
          "  default_backend be",
          "backend be",
          "  balance roundrobin",
          ...REPLICA_PORTS.map((p, i) => `  server s${i} 127.0.0.1:${p}`),
          "",
        ].join("\n"),
      );
      const hand = spawn("haproxy", ["-f", cfg], { stdio: "ignore" });
      children.push(hand);
      await waitHttp(24960);
      results.push({ name: "HAProxy, hand-written minimal config (baseline)", rps: await wrk(24960) });
      hand.kill("SIGTERM");

      // 3. Switchyard's HAProxy with its default rules (health checks, retries, redispatch, X-Forwarded-*)
      const ha = createHaproxyEngine({ dataDir: path.join(dir, "ha"), listen: config.listen, mode: "supervised" });
      engines.push(ha);
      await ha.start(config);
      await sleep(1500); // health checks rise
      results.push({ name: "HAProxy, Switchyard config", rps: await wrk(24950) });
      await ha.stop();
    }

    if (has("nginx")) {
      const nginxConfig = { ...config, listen: { host: "127.0.0.1", port: 24951 } };
      const ng = createNginxEngine({ dataDir: path.join(dir, "ng"), listen: nginxConfig.listen, mode: "supervised" });
      engines.push(ng);
      await ng.start(nginxConfig);
      await waitHttp(24951);
      results.push({ name: "nginx, Switchyard config (upstream keepalive)", rps: await wrk(24951) });
      await ng.stop();
    }

    const builtinConfig = { ...config, listen: { host: "127.0.0.1", port: 24952 } };
    const bi = createBuiltinEngine({ dataDir: path.join(dir, "bi"), listen: builtinConfig.listen });
    engines.push(bi);
    await bi.start(builtinConfig);
    await sleep(1000);
    results.push({ name: "builtin Node proxy", rps: await wrk(24952) });
    await bi.stop();

    const base = results.find((r) => r.name.includes("baseline")) ?? results[0];
    console.log(`\nThroughput, wrk -c${CONNECTIONS} -d${SECONDS}s, 3 replicas of replica/server.js, ${os.cpus().length} cores`);
    console.log(`ratios against: ${base.name}\n`);
    for (const r of results) console.log(`${r.name.padEnd(52)} ${r.rps.toFixed(0).padStart(8)} req/s   ${(r.rps / base.rps).toFixed(2)}×`);
  } finally {
    for (const e of engines) await e.stop().catch(() => undefined);
    for (const c of children) c.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
