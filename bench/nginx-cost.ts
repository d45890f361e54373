/**
 * What nginx's per-request record costs (issue 18, nginx): nginx OSS has no per-server
 * statistics, so the panel counts per replica from nginx's access log. This measures
 *
 * 1. throughput and CPU per request of nginx (Switchyard's config) with each way of
 *    writing that record, against a hand-written minimal HAProxy, in short interleaved
 *    windows (A B C … C B A A B C …), every balancer in a session of its own:
 *      per-request  access_log to a file, one write() per request (the transport until this bench)
 *      buffered     access_log to a file with buffer=64k flush=1s (what the engine renders now)
 *      syslog       access_log syslog:server=127.0.0.1:18650, one UDP datagram per request
 *                   (the transport before issue 9), received and counted by this process
 *      off          access_log off (what counting costs nginx, by difference)
 * 2. the panel's CPU to count: this process counts each candidate's records with the
 *    panel's own code (the engine's log reader and counters, or a UDP socket for syslog);
 *    its CPU time over a window and the records it counted give µs per record, printed as
 *    % of a core at 12.5k req/s; and whether the counts are exact: after the windows, a
 *    counted run of exactly N requests per candidate (and for the file candidates while
 *    this process is stopped for `--stall` ms: a panel stall).
 * 3. churn (`--churn`, on by default): 10 scale-ups, 10 applies and 10 scale-downs
 *    (drain, then remove) under a keep-alive load, on nginx and on HAProxy (each with
 *    Switchyard's engine), failed requests counted and classified: reset (read
 *    ECONNRESET: the connection was reset under a request), hang-up (closed with no
 *    answer), 502/503/504, timeout, other.
 *
 *   npm run bench:nginx -- [--seconds 3] [--rounds 6] [--connections 50]
 *        [--only hand,per-request,buffered,syslog,off] [--stall 1500] [--churn 1|0] [--churn-rps 800]
 *
 * Ports: replicas 15500-15505 (throughput) and 15510-15531 (churn), listeners 18630-18634
 * and 18640-18641, UDP 18650 (syslog) and 18651 (the churn HAProxy's request log).
 * Loopback only; every load is bounded in time and count.
 */
import type { ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { rulesSchema } from "../lib/core/rules";
import type { BalancerConfig, BalancerServer, BalancerService, RunningEngine } from "../lib/engines/types";
import { createHaproxyEngine } from "../lib/engines/haproxy";
import { NginxEngine } from "../lib/engines/nginx";
import { AccessCounters, parseAccessLine } from "../lib/engines/nginx/access-log";
import { takeLines } from "../lib/engines/nginx/log-tail";
import { LOG_RECORD_MARKER } from "../lib/engines/nginx/render";
import { argOf, has, killGroup, median, minimalHaproxyConfig, sessionCpu, sleep, spawnOwnSession, roundRatios, spread, TICKS, waitHttp, wrk } from "./measure";

const SECONDS = Number(argOf("seconds") ?? 3);
const ROUNDS = Number(argOf("rounds") ?? 6);
const CONNECTIONS = Number(argOf("connections") ?? 50);
const ONLY = argOf("only")?.split(",");
const STALL_MS = Number(argOf("stall") ?? 1500);
const CHURN = (argOf("churn") ?? "1") !== "0";
const CHURN_RPS = Number(argOf("churn-rps") ?? 800);
const ROOT = path.resolve(__dirname, "..");
const REPLICA_PORTS = [15500, 15502, 15504];
const SYSLOG_PORT = 18650;
const EXACT_N = 3000;

type Mode = "per-request" | "buffered" | "syslog" | "off";

/** Switchyard's nginx engine with the access_log line of another way of counting. */
class NginxVariant extends NginxEngine {
  constructor(
    opts: ConstructorParameters<typeof NginxEngine>[0],
    private readonly mode: Mode,
  ) {
    super(opts);
  }

  render(config: BalancerConfig): string {
    const text = super.render(config);
    const line = /^ *access_log .*$/m;
    if (!line.test(text)) throw new Error("no access_log line in the rendered config");
    const file = this.paths.accessLog;
    switch (this.mode) {
      case "buffered":
        return text;
      case "per-request":
        return text.replace(line, `    access_log "${file}" sy_upstream;`);
      case "syslog":
        return text.replace(line, `    access_log syslog:server=127.0.0.1:${SYSLOG_PORT},tag=lb sy_upstream;`);
      case "off":
        return text.replace(line, "    access_log off;");
    }
  }
}

/** The panel's old receiver: one datagram per request, parsed and counted (4 MiB asked for, as it did). */
function syslogReceiver(): Promise<{ counters: AccessCounters; close: () => void }> {
  const counters = new AccessCounters();
  const sock = dgram.createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 });
  const marker = `${LOG_RECORD_MARKER}|`;
  sock.on("message", (msg) => {
    const text = msg.toString("utf8");
    const at = text.indexOf(marker);
    const rec = at >= 0 ? parseAccessLine(text.slice(at).replace(/\n$/, "")) : null;
    if (rec) counters.add(rec);
  });
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(SYSLOG_PORT, "127.0.0.1", () => resolve({ counters, close: () => sock.close() }));
  });
}

/** The floor of the panel's cost: CPU µs per record to split, parse and count a whole log read at once (no polling, no syscalls per poll). */
function countCostOfFile(file: string): { records: number; usPerRecord: number } {
  const data = fs.readFileSync(file);
  const counters = new AccessCounters();
  const t = process.cpuUsage();
  let carry: Buffer | null = null;
  for (let off = 0; off < data.length; off += 1024 * 1024) {
    const { lines, rest } = takeLines(carry, data.subarray(off, Math.min(data.length, off + 1024 * 1024)));
    carry = rest;
    for (const line of lines) {
      const rec = parseAccessLine(line);
      if (rec) counters.add(rec);
    }
  }
  const u = process.cpuUsage(t);
  return { records: counters.records, usPerRecord: (u.user + u.system) / Math.max(1, counters.records) };
}

type Candidate = {
  key: string;
  name: string;
  port: number;
  marker: string;
  isBaseline?: boolean;
  /** records counted so far by this process (the panel's side), null when nothing counts */
  records: (() => Promise<number>) | null;
  /** its access log file, when it writes one */
  logFile?: string;
};
type Window = { round: number; key: string; rps: number; requests: number; cpuS: number; panelCpuUs: number; counted: number | null };

const serverOf = (port: number, i: number): BalancerServer => ({ replicaId: `b${i}`, name: `r-b${i}`, host: "127.0.0.1", port, weight: 100, adminState: "ready" });
const configOf = (port: number, servers: BalancerServer[]): BalancerConfig => ({
  listen: { host: "127.0.0.1", port },
  services: [{ id: "bench", name: "bench", rules: rulesSchema.parse({}), servers }],
});

/** `n` requests on 20 keep-alive sockets; resolves with how many got a 200. */
async function exactly(port: number, n: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  let sent = 0;
  let ok = 0;
  const loop = async () => {
    while (sent < n) {
      sent++;
      const status = await new Promise<number>((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: "/", agent, timeout: 10_000 }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve(0));
      });
      if (status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: 20 }, loop));
  agent.destroy();
  return ok;
}

/** Waits (at most `ms`) until `read` stops changing for 1.5 s or reaches `atLeast`; returns its last value. */
async function settle(read: () => Promise<number>, atLeast: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let last = await read();
  let since = Date.now();
  while (Date.now() < end && last < atLeast) {
    await sleep(100);
    const v = await read();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since > 1500) break;
  }
  return last;
}

/** Blocks this process (the panel's side of the count) for `ms`, as a GC pause or a stuck tick would. */
function stallThisProcess(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function throughput(dir: string, children: ChildProcess[], engines: RunningEngine[]): Promise<void> {
  const wanted = (key: string) => !ONLY || ONLY.includes(key);
  const candidates: Candidate[] = [];
  const servers = REPLICA_PORTS.map(serverOf);

  if (has("haproxy") && wanted("hand")) {
    const cfg = path.join(dir, "hand.cfg");
    fs.writeFileSync(cfg, minimalHaproxyConfig(18630, REPLICA_PORTS));
    children.push(spawnOwnSession("haproxy", ["-f", cfg]));
    await waitHttp(18630);
    candidates.push({ key: "hand", name: "HAProxy, hand-written minimal", port: 18630, marker: cfg, isBaseline: true, records: null });
  }
  const modes: [Mode, number, string][] = [
    ["per-request", 18631, "nginx, access log: a write per request"],
    ["buffered", 18632, "nginx, access log: buffer=64k flush=1s"],
    ["syslog", 18634, "nginx, access log: syslog, UDP per request"],
    ["off", 18633, "nginx, access_log off"],
  ];
  let syslog: Awaited<ReturnType<typeof syslogReceiver>> | null = null;
  for (const [mode, port, name] of modes) {
    if (!wanted(mode)) continue;
    const ngDir = path.join(dir, `ng-${mode}`);
    const ng = new NginxVariant({ dataDir: ngDir, listen: { host: "127.0.0.1", port }, mode: "supervised", accessLogMaxBytes: 64 * 1024 * 1024 }, mode);
    engines.push(ng);
    await ng.start(configOf(port, servers));
    await waitHttp(port);
    let records: Candidate["records"] = null;
    if (mode === "per-request" || mode === "buffered") {
      records = async () => {
        await ng.stats(); // the panel's collector: read what nginx wrote until now, and count it
        return ng.accessLogStats()?.records ?? 0;
      };
    } else if (mode === "syslog") {
      syslog = await syslogReceiver();
      const counters = syslog.counters;
      records = () => Promise.resolve(counters.records);
    }
    candidates.push({ key: mode, name, port, marker: `${ngDir}/`, records, ...(mode === "per-request" || mode === "buffered" ? { logFile: ng.paths.accessLog } : {}) });
  }
  if (candidates.length === 0) throw new Error("no candidate to measure");

  // the panel's collector polls every engine once a second; here every candidate that counts, all the time
  const counting = candidates.filter((c) => c.records !== null);
  const collector = setInterval(() => void Promise.all(counting.map((c) => c.records!())), 1000);
  try {
    for (const c of candidates) await wrk(c.port, CONNECTIONS, 1); // warm-up, not counted

    const windows: Window[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? candidates : [...candidates].reverse();
      for (const c of order) {
        const countedBefore = c.records ? await c.records() : 0;
        const before = sessionCpu(c.marker);
        const panelBefore = process.cpuUsage();
        const w = await wrk(c.port, CONNECTIONS, SECONDS);
        const cpuS = (sessionCpu(c.marker) - before) / TICKS;
        // the records of this window reach the file up to a second later (buffered): wait for them before reading the panel's CPU
        const counted = c.records ? (await settle(c.records, countedBefore + w.requests, 4000)) - countedBefore : null;
        const panel = process.cpuUsage(panelBefore);
        if (w.errors) console.log(`   (wrk on ${c.key} reported: ${w.errors})`);
        windows.push({ round, key: c.key, rps: w.rps, requests: w.requests, cpuS, panelCpuUs: panel.user + panel.system, counted });
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }

    // exact? a counted number of requests per candidate, then the same again with this process stopped for a while
    const exact: string[] = [];
    for (const c of counting) {
      const before = await settle(c.records!, Number.MAX_SAFE_INTEGER, 3000);
      const ok = await exactly(c.port, EXACT_N);
      const counted = (await settle(c.records!, before + ok, 10_000)) - before;
      let stalled = "";
      if (STALL_MS > 0) {
        const b2 = await settle(c.records!, Number.MAX_SAFE_INTEGER, 3000);
        const w = wrk(c.port, CONNECTIONS, Math.ceil(STALL_MS / 1000) + 2);
        await sleep(500);
        stallThisProcess(STALL_MS);
        const r = await w;
        const got = (await settle(c.records!, b2 + r.requests, 10_000)) - b2;
        stalled = `; with this process stopped ${STALL_MS} ms under wrk -c${CONNECTIONS} (${Math.round(r.rps)} req/s): ${got} counted of ${r.requests} wrk completed (wrk does not count the requests in flight when it stops: up to ${CONNECTIONS} more may be served and logged)`;
      }
      exact.push(`${c.name}: ${counted} counted of ${ok} answered${stalled}`);
    }
    for (const c of counting.filter((x) => x.logFile)) {
      const f = countCostOfFile(c.logFile!);
      exact.push(`${c.name}: its whole log (${f.records} records) split, parsed and counted at once: ${f.usPerRecord.toFixed(2)} µs/record = ${((f.usPerRecord * 12_500) / 1e4).toFixed(1)} % of a core at 12.5k req/s (the floor of the panel's cost)`);
    }
    report(candidates, windows, exact);
  } finally {
    clearInterval(collector);
    syslog?.close();
  }
}

function report(candidates: Candidate[], windows: Window[], exact: string[]): void {
  const base = candidates.find((c) => c.isBaseline) ?? candidates[0];
  console.log(
    `\nnginx's per-request record, wrk -c${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS} s windows interleaved (A B … B A), 3 replicas of replica/server.js, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(`ratios: within each round against ${base.name}; median (min–max)\n`);
  console.log(`${"candidate".padEnd(44)} ${"req/s".padEnd(22)} ${"ratio".padEnd(18)} ${"CPU µs/request".padEnd(20)} panel µs/record     panel % of a core at 12.5k req/s`);
  const ratioOf = (key: string, against: string) => roundRatios(windows, key, against);
  for (const c of candidates) {
    const mine = windows.filter((w) => w.key === c.key);
    const cpu = mine.filter((w) => w.requests > 0).map((w) => (w.cpuS * 1e6) / w.requests);
    const panel = mine.filter((w) => w.counted !== null && w.counted > 0).map((w) => w.panelCpuUs / w.counted!);
    const panelText = panel.length ? spread(panel, 2) : "-";
    const core = panel.length ? `${((median(panel) * 12_500) / 1e4).toFixed(1)} %` : "-";
    console.log(`${c.name.padEnd(44)} ${spread(mine.map((w) => w.rps), 0).padEnd(22)} ${(c === base ? "1" : spread(ratioOf(c.key, base.key), 2)).padEnd(18)} ${spread(cpu, 1).padEnd(20)} ${panelText.padEnd(19)} ${core}`);
  }
  const pair = (a: string, b: string) => candidates.some((c) => c.key === a) && candidates.some((c) => c.key === b);
  console.log("");
  for (const [a, b] of [["buffered", "per-request"], ["buffered", "off"], ["per-request", "off"], ["syslog", "off"], ["buffered", "syslog"]] as const) {
    if (pair(a, b)) console.log(`${a} / ${b}, per round: ${spread(ratioOf(a, b), 2)}`);
  }
  const lost = windows.filter((w) => w.counted !== null && w.counted < w.requests);
  console.log(`\nwindows whose records fell short of wrk's completed requests: ${lost.length ? lost.map((w) => `${w.key} round ${w.round + 1}: ${w.counted} of ${w.requests}`).join("; ") : "none"}`);
  console.log("exact counts, and the counting's floor:");
  for (const e of exact) console.log(`  ${e}`);
}

// ------------------------------------------------------------------ churn

type Failures = Record<"reset" | "hang-up" | "502" | "503" | "504" | "timeout" | "other", number>;

function classify(e: Error & { code?: string }): keyof Failures {
  if (e.message === "timeout") return "timeout";
  if (e.message === "socket hang up") return "hang-up";
  if (e.code === "ECONNRESET" || e.code === "EPIPE") return "reset";
  return "other";
}

type Outcome = { status: number } | { error: Error & { code?: string }; reused: boolean };

/** One GET; an error says whether it came on a reused keep-alive connection before any byte of an answer. */
function getOnce(port: number, agent: http.Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    let answered = false;
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent, timeout: 5000 }, (res) => {
      answered = true;
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      res.on("error", (error) => resolve({ error, reused: false }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: Error & { code?: string }) => resolve({ error, reused: req.reusedSocket && !answered }));
  });
}

/**
 * An open-loop keep-alive load at `rps` on a pool of 32 sockets until stop(); each failure
 * classified. A request that failed on a reused keep-alive connection before any byte of
 * an answer is also tried once more on a new connection, as RFC 9112 9.3.1 allows for an
 * idempotent request (browsers do; Node's http.Agent does not): `retryRescued` counts those
 * that then got their answer, so "failed for a client that retries" = failed - retryRescued.
 */
function churnLoad(port: number, rps: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const failures: Failures = { reset: 0, "hang-up": 0, "502": 0, "503": 0, "504": 0, timeout: 0, other: 0 };
  const examples = new Set<string>();
  let ok = 0;
  let sent = 0;
  let retryRescued = 0;
  let stopped = false;
  const inflight = new Set<Promise<void>>();
  let owed = 0;
  let last = Date.now();
  const started = Date.now();
  const one = async () => {
    const r = await getOnce(port, agent);
    if ("status" in r) {
      const s = String(r.status);
      if (r.status === 200) ok++;
      else if (s === "502" || s === "503" || s === "504") failures[s]++;
      else failures.other++;
      return;
    }
    failures[classify(r.error)]++;
    examples.add(`${r.error.code ?? ""} ${r.error.message}${r.reused ? " (on a reused connection, no answer yet)" : ""}`.trim());
    if (r.reused) {
      const again = await getOnce(port, false);
      if ("status" in again && again.status === 200) retryRescued++;
    }
  };
  const timer = setInterval(() => {
    const now = Date.now();
    owed += ((now - last) / 1000) * rps;
    last = now;
    for (; owed >= 1 && !stopped && sent < 2_000_000 && now - started < 600_000; owed--) {
      sent++;
      const p = one().finally(() => inflight.delete(p));
      inflight.add(p);
    }
  }, 10);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (inflight.size) await Promise.all([...inflight]);
      agent.destroy();
      return { ok, sent, failures, retryRescued, examples: [...examples].slice(0, 4) };
    },
  };
}

async function churnOne(kind: "nginx" | "haproxy", dir: string, port: number, ports: number[], engines: RunningEngine[]): Promise<string> {
  const servers = ports.map((p, i) => serverOf(p, i));
  const svc = (list: BalancerServer[]): BalancerService => configOf(port, list).services[0];
  const engDir = path.join(dir, `churn-${kind}`);
  fs.mkdirSync(engDir, { recursive: true });
  let engine: RunningEngine;
  if (kind === "nginx") {
    engine = new NginxEngine({ dataDir: engDir, listen: { host: "127.0.0.1", port }, mode: "supervised" });
  } else {
    fs.writeFileSync(path.join(engDir, "haproxy-log-port"), "18651");
    engine = createHaproxyEngine({ dataDir: engDir, listen: { host: "127.0.0.1", port }, mode: "supervised" });
  }
  engines.push(engine);
  let live = [servers[0]];
  await engine.start(configOf(port, live));
  await waitHttp(port);
  await sleep(1000);
  const load = churnLoad(port, CHURN_RPS);
  await sleep(1000);
  const t0 = Date.now();
  const reloadsBefore = engine instanceof NginxEngine ? engine.reloadCount : 0;
  for (let i = 1; i <= 10; i++) {
    // a scale-up: the panel adds a replica that turned healthy
    await engine.addServer(svc(live), servers[i]);
    live = [...live, servers[i]];
    await sleep(400);
  }
  for (let i = 1; i <= 10; i++) {
    // an apply: the rules changed (here a weight), the whole config rendered and applied
    live = live.map((s, j) => (j === 0 ? { ...s, weight: 100 + i } : s));
    const cfg = configOf(port, live);
    const r = await engine.apply(engine.render(cfg), cfg);
    if (!r.ok) throw new Error(`apply failed: ${r.error}`);
    await sleep(400);
  }
  for (let i = 10; i >= 1; i--) {
    // a scale-down: drain, then remove once the replica has no request in flight
    const name = servers[i].name;
    await engine.setServerState(svc(live), name, "drain");
    live = live.map((s) => (s.name === name ? { ...s, adminState: "drain" as const } : s));
    await sleep(200);
    await engine.removeServer(svc(live), name);
    live = live.filter((s) => s.name !== name);
    await sleep(200);
  }
  await sleep(1000);
  const r = await load.stop();
  const seconds = (Date.now() - t0) / 1000;
  const reloads = engine instanceof NginxEngine ? `, ${engine.reloadCount - reloadsBefore} reloads` : "";
  await engine.stop();
  const failed = Object.values(r.failures).reduce((a, b) => a + b, 0);
  const by = Object.entries(r.failures)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return (
    `${kind.padEnd(8)} ${failed} failed of ${r.sent} (${by || "none"}) over ${seconds.toFixed(0)} s${reloads}; for a client that retries an idempotent request once ` +
    `when a reused connection closed before any answer: ${failed - r.retryRescued} failed${r.examples.length ? `; errors seen: ${r.examples.join(" | ")}` : ""}`
  );
}

async function churn(dir: string, children: ChildProcess[], engines: RunningEngine[]): Promise<void> {
  const ports = Array.from({ length: 11 }, (_, i) => 15510 + i * 2);
  for (const [i, port] of ports.entries()) {
    children.push(spawnOwnSession(process.execPath, [path.join(ROOT, "replica", "server.js")], { ...process.env, PORT: String(port), ADMIN_PORT: String(port + 1), ADMIN_TOKEN: "bench", REPLICA_ID: `c${i}`, SERVICE_NAME: "bench" }));
  }
  for (const p of ports) await waitHttp(p);
  const lines: string[] = [];
  if (has("nginx")) lines.push(await churnOne("nginx", dir, 18640, ports, engines));
  if (has("haproxy")) lines.push(await churnOne("haproxy", dir, 18641, ports, engines));
  console.log(`\nchurn: 10 scale-ups, 10 applies, 10 scale-downs (drain, remove), a keep-alive load at ${CHURN_RPS} req/s on 32 sockets (Node's http.Agent)`);
  for (const l of lines) console.log(`  ${l}`);
}

async function main() {
  if (!has("wrk") || !has("nginx")) {
    console.log("bench: wrk and nginx are needed (apt-get install wrk nginx); nothing measured");
    return;
  }
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-nginx-cost-")));
  fs.chmodSync(dir, 0o755); // nginx's workers run as nobody when the bench runs as root
  const children: ChildProcess[] = [];
  const engines: RunningEngine[] = [];
  try {
    for (const [i, port] of REPLICA_PORTS.entries()) {
      children.push(spawnOwnSession(process.execPath, [path.join(ROOT, "replica", "server.js")], { ...process.env, PORT: String(port), ADMIN_PORT: String(port + 1), ADMIN_TOKEN: "bench", REPLICA_ID: `b${i}`, SERVICE_NAME: "bench" }));
    }
    for (const p of REPLICA_PORTS) await waitHttp(p);
    if (ROUNDS > 0) await throughput(dir, children, engines);
    for (const e of engines.splice(0)) await e.stop().catch(() => undefined);
    if (CHURN) await churn(dir, children, engines);
  } finally {
    for (const e of engines) await e.stop().catch(() => undefined);
    for (const c of children) killGroup(c);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
