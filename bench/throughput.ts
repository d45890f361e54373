/**
 * Throughput benchmark that means something on a noisy machine (issue 18): the same three
 * replicas behind each candidate balancer, all started once and left running, then
 * measured in short interleaved windows, A B C … C B A A B C …, so a machine that gets
 * busier or quieter during the run weighs on every candidate alike.
 *
 * Candidates (those whose binary is installed):
 *   1. direct: three wrk runs in parallel, one per replica (the replicas' own ceiling)
 *   2. HAProxy, a hand-written minimal config (the baseline a person would write)
 *   3. HAProxy, Switchyard's config (lib/engines/haproxy, default rules)
 *   4. nginx, Switchyard's config
 *   5. the builtin Node proxy (lib/engines/builtin), with a worker per core (the default) and with
 *      one worker (one process, the yardstick's terms)
 *   6. a minimal Node proxy (bench/minimal-proxy.mjs: http.request + keep-alive Agent), the
 *      builtin proxy's yardstick
 *
 * Every candidate starts the same way: detached, in a session of its own, as the engines
 * start their balancers. With kernel.sched_autogroup_enabled=1 the scheduler shares CPU
 * between sessions first, so a baseline started in the bench's own session (with wrk)
 * would get a different share than an engine's balancer in its own: the old single-run
 * "0.68–0.84 × hand-written" was that, not the config. The replicas are detached too.
 *
 * Printed per candidate: req/s (median of its windows, min–max), the ratio against the
 * baseline computed within each round (median, min–max), and the balancer's CPU time per
 * request (utime+stime of every process in its session over the window / requests): far
 * steadier than req/s on a shared machine, since it does not count the time the balancer
 * waited for a core.
 *
 *   npm run bench -- [--seconds 3] [--rounds 6] [--connections 50] [--only hand,haproxy,builtin,builtin-1,minimal]
 *                    [--builtin-from /path/to/other/checkout]   (its builtin proxy as one more candidate)
 *
 * Ports: replicas 31900-31905, balancers 18535-18539 and 31910-31911. Loopback only;
 * every load run is bounded (wrk -d).
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { rulesSchema } from "../lib/core/rules";
import type { BalancerConfig, RunningEngine } from "../lib/engines/types";
import { createHaproxyEngine } from "../lib/engines/haproxy";
import { createBuiltinEngine } from "../lib/engines/builtin";
import { createNginxEngine } from "../lib/engines/nginx";
import { argOf, has, killGroup, minimalHaproxyConfig, sessionCpu, sleep, spawnOwnSession, roundRatios, spread, TICKS, waitHttp, wrk } from "./measure";

const SECONDS = Number(argOf("seconds") ?? 3);
const ROUNDS = Number(argOf("rounds") ?? 6);
const CONNECTIONS = Number(argOf("connections") ?? 50);
const ONLY = argOf("only")?.split(",");
/** another checkout whose builtin proxy runs beside this one's (before/after a change of lib/engines/builtin) */
const BUILTIN_FROM = argOf("builtin-from");
const ROOT = path.resolve(__dirname, "..");
const REPLICA_PORTS = [31900, 31902, 31904];

type Candidate = { key: string; name: string; port: number | null; marker: string | null; isBaseline?: boolean };
type Window = { round: number; key: string; rps: number; requests: number; cpuS: number | null };

async function main() {
  if (!has("wrk")) {
    console.log("bench: wrk is not installed (apt-get install wrk); nothing measured");
    return;
  }
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-")));
  const children: ChildProcess[] = [];
  const engines: RunningEngine[] = [];
  const candidates: Candidate[] = [];
  const wanted = (key: string) => !ONLY || ONLY.includes(key);
  try {
    for (const [i, port] of REPLICA_PORTS.entries()) {
      children.push(
        spawnOwnSession(process.execPath, [path.join(ROOT, "replica", "server.js")], { ...process.env, PORT: String(port), ADMIN_PORT: String(port + 1), ADMIN_TOKEN: "bench", REPLICA_ID: `b${i}`, SERVICE_NAME: "bench" }),
      );
    }
    for (const p of REPLICA_PORTS) await waitHttp(p);
    if (wanted("direct")) candidates.push({ key: "direct", name: "direct (3 replicas, no balancer)", port: null, marker: null });

    const config = (port: number): BalancerConfig => ({
      listen: { host: "127.0.0.1", port },
      services: [
        {
          id: "bench",
          name: "bench",
          rules: rulesSchema.parse({}),
          servers: REPLICA_PORTS.map((p, i) => ({ replicaId: `b${i}`, name: `r-b${i}`, host: "127.0.0.1", port: p, weight: 100, adminState: "ready" as const })),
        },
      ],
    });

    if (has("haproxy") && wanted("hand")) {
      const cfg = path.join(dir, "hand.cfg");
      fs.writeFileSync(cfg, minimalHaproxyConfig(18535, REPLICA_PORTS));
      children.push(spawnOwnSession("haproxy", ["-f", cfg]));
      await waitHttp(18535);
      candidates.push({ key: "hand", name: "HAProxy, hand-written minimal config", port: 18535, marker: cfg, isBaseline: true });
    }
    if (has("haproxy") && wanted("haproxy")) {
      const haDir = path.join(dir, "ha");
      const ha = createHaproxyEngine({ dataDir: haDir, listen: config(18536).listen, mode: "supervised" });
      engines.push(ha);
      await ha.start(config(18536));
      await sleep(1500); // health checks rise
      await waitHttp(18536);
      candidates.push({ key: "haproxy", name: "HAProxy, Switchyard config", port: 18536, marker: `${haDir}/` });
    }
    if (has("nginx") && wanted("nginx")) {
      const ngDir = path.join(dir, "ng");
      const ng = createNginxEngine({ dataDir: ngDir, listen: config(18537).listen, mode: "supervised" });
      engines.push(ng);
      await ng.start(config(18537));
      await waitHttp(18537);
      candidates.push({ key: "nginx", name: "nginx, Switchyard config", port: 18537, marker: `${ngDir}/` });
    }
    if (wanted("builtin")) {
      const biDir = path.join(dir, "bi");
      const bi = createBuiltinEngine({ dataDir: biDir, listen: config(18538).listen });
      engines.push(bi);
      await bi.start(config(18538));
      await sleep(3000); // start() returns once one worker serves; the others join
      await waitHttp(18538);
      candidates.push({ key: "builtin", name: `builtin, ${os.availableParallelism()} workers`, port: 18538, marker: `${biDir}/` });
    }
    if (wanted("builtin-1")) {
      const bi1Dir = path.join(dir, "bi1");
      const bi1 = createBuiltinEngine({ dataDir: bi1Dir, listen: config(31911).listen, workers: 1 });
      engines.push(bi1);
      await bi1.start(config(31911));
      await sleep(1000);
      await waitHttp(31911);
      candidates.push({ key: "builtin-1", name: "builtin, 1 worker (one process)", port: 31911, marker: `${bi1Dir}/` });
    }
    if (BUILTIN_FROM && wanted("builtin-from")) {
      const otherDir = path.join(dir, "bi-other");
      const other = createBuiltinEngine({ dataDir: otherDir, listen: config(31910).listen, appRoot: path.resolve(BUILTIN_FROM) });
      engines.push(other);
      await other.start(config(31910));
      await sleep(1000);
      await waitHttp(31910);
      candidates.push({ key: "builtin-from", name: `builtin proxy of ${path.basename(path.resolve(BUILTIN_FROM))}`, port: 31910, marker: `${otherDir}/` });
    }
    if (wanted("minimal")) {
      const script = path.join(ROOT, "bench", "minimal-proxy.mjs");
      children.push(spawnOwnSession(process.execPath, [script, "18539", ...REPLICA_PORTS.map(String)]));
      await waitHttp(18539);
      candidates.push({ key: "minimal", name: "minimal Node proxy (yardstick)", port: 18539, marker: script });
    }
    if (candidates.length === 0) throw new Error("no candidate to measure");

    // warm-up: one window each, not counted (JIT, connection pools, health checks)
    for (const c of candidates) if (c.port !== null) await wrk(c.port, CONNECTIONS, 1);

    const windows: Window[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? candidates : [...candidates].reverse();
      for (const c of order) {
        const before = c.marker ? sessionCpu(c.marker) : 0;
        let rps = 0;
        let requests = 0;
        if (c.port === null) {
          const direct = await Promise.all(REPLICA_PORTS.map((p) => wrk(p, Math.ceil(CONNECTIONS / 3), SECONDS)));
          rps = direct.reduce((a, b) => a + b.rps, 0);
          requests = direct.reduce((a, b) => a + b.requests, 0);
        } else {
          const w = await wrk(c.port, CONNECTIONS, SECONDS);
          if (w.errors) console.log(`   (wrk on ${c.key} reported: ${w.errors})`);
          rps = w.rps;
          requests = w.requests;
        }
        const cpuS = c.marker ? (sessionCpu(c.marker) - before) / TICKS : null;
        windows.push({ round, key: c.key, rps, requests, cpuS });
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
    report(candidates, windows);
  } finally {
    for (const e of engines) await e.stop().catch(() => undefined);
    for (const c of children) killGroup(c); // its own process group
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(candidates: Candidate[], windows: Window[]): void {
  const base = candidates.find((c) => c.isBaseline) ?? candidates[0];
  const minimal = candidates.find((c) => c.key === "minimal");
  console.log(
    `\nThroughput, wrk -c${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS} s windows interleaved (A B … B A), 3 replicas of replica/server.js, ${os.cpus().length} cores, ` +
      `sched_autogroup ${fs.existsSync("/proc/sys/kernel/sched_autogroup_enabled") ? fs.readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() : "n/a"}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`,
  );
  console.log(`ratios: within each round against ${base.name}${minimal ? `; builtin also against ${minimal.name}` : ""}; median (min–max)\n`);
  console.log(`${"candidate".padEnd(40)} ${"req/s".padEnd(24)} ${"ratio".padEnd(20)} CPU µs/request (balancer's session)`);
  const ratioOf = (key: string, against: string) => roundRatios(windows, key, against);
  for (const c of candidates) {
    const mine = windows.filter((w) => w.key === c.key);
    const cpu = mine.filter((w) => w.cpuS !== null && w.requests > 0).map((w) => (w.cpuS! * 1e6) / w.requests);
    console.log(`${c.name.padEnd(40)} ${spread(mine.map((w) => w.rps), 0).padEnd(24)} ${(c === base ? "1" : spread(ratioOf(c.key, base.key), 2)).padEnd(20)} ${cpu.length ? spread(cpu, 1) : "-"}`);
  }
  // CPU per request, the yardstick's over the candidate's, within each round: 1.1 = the candidate spends 10 % less CPU per request
  const cpuRatioOf = (key: string, against: string) =>
    windows
      .filter((w) => w.key === key && w.cpuS && w.requests > 0)
      .map((w) => {
        const b = windows.find((x) => x.round === w.round && x.key === against);
        return b && b.cpuS && b.requests > 0 ? b.cpuS / b.requests / (w.cpuS! / w.requests) : NaN;
      })
      .filter((r) => Number.isFinite(r));
  if (minimal && candidates.some((c) => c.key === "builtin-1")) {
    console.log(`\nbuiltin 1 worker vs minimal Node proxy, CPU per request (minimal's / builtin's), per round: ${spread(cpuRatioOf("builtin-1", "minimal"), 2)}`);
  }
  if (minimal && candidates.some((c) => c.key === "builtin-1")) console.log(`builtin 1 worker / minimal Node proxy (both one process), req/s per round: ${spread(ratioOf("builtin-1", "minimal"), 2)}`);
  if (minimal && candidates.some((c) => c.key === "builtin")) console.log(`builtin ${os.availableParallelism()} workers / minimal Node proxy, per round: ${spread(ratioOf("builtin", "minimal"), 2)}`);
  if (candidates.some((c) => c.key === "builtin-1") && candidates.some((c) => c.key === "builtin")) console.log(`builtin ${os.availableParallelism()} workers / builtin 1 worker, per round: ${spread(ratioOf("builtin", "builtin-1"), 2)}`);
  if (minimal && candidates.some((c) => c.key === "builtin-from")) console.log(`builtin (other checkout) / minimal Node proxy, per round: ${spread(ratioOf("builtin-from", "minimal"), 2)}`);
  if (candidates.some((c) => c.key === "builtin-from") && candidates.some((c) => c.key === "builtin")) console.log(`builtin / builtin (other checkout), per round: ${spread(ratioOf("builtin", "builtin-from"), 2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
