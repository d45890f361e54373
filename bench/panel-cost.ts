/**
 * The panel's own cost as replicas grow (issue 18, "The panel's own cost").
 *
 * All real: a panel (`npm start` on a temporary DATA_DIR, tests/helpers/panel.ts) with its
 * demo service "web" as N process replicas behind the engine ENGINE picks, the panel's own
 * traffic generator at light traffic (--rps, default 50 req/s), and V headless Chromium
 * pages on the service page (the viewers). Read from /proc of the panel's server process
 * over the same window:
 *
 *   CPU    utime+stime: % of one core, and ms of CPU per replica per second
 *   RSS    VmRSS at the end, and the largest seen (sampled each second)
 *   syscr  read-type system calls (/proc/<pid>/io): per second and per replica per second.
 *          A count, not a time: it does not depend on how loaded the machine is, so it is
 *          the figure to compare across runs on a shared machine (the state.json re-reads
 *          of issue 18 show here as N² reads a second).
 *
 * Candidates (--candidates name=/path/to/checkout,...) are other checkouts of the project
 * (e.g. the commit before a change, each with node_modules and a .next build); they run
 * interleaved A B B A … (--rounds), each started the same way, and each figure is printed
 * per run, then as the median of its runs with the spread (min–max), and as a ratio
 * against the first candidate. With --profile S the V8 CPU profiler (the one --cpu-prof
 * uses) records S seconds of the server process after the measured windows, through the
 * inspector (SIGUSR1, --inspect-port), and the top functions by self time are printed.
 *
 *   npm run bench:panel -- [--replicas 3,25,50,200] [--viewers 3] [--seconds 60] [--rps 50] [--probes 5] [--memory] [--node-options "--flag"]
 *                          [--candidates after=.,before=/work/wt-before] [--rounds 2] [--profile 20] [--profile-at 50]
 *
 * With --memory, after each window the server process's memory is broken down through the
 * inspector (process.memoryUsage, V8's heap spaces, the collector's history), then again after
 * a forced full GC: what of the RSS is live and what is garbage not collected yet.
 *
 * A figure taken on a machine too busy for it is labelled so: a window whose load average
 * (1 min) was above 2 per core, or at which the collector ran fewer than 0.95 ticks a second,
 * is "NOT VALID" in the goals (the CPU figure is then for part of the work, or says more about
 * the machine than about the panel).
 *
 * Ports: panels 3590-3597, inspector 3599, listeners 18720-18724, replicas 13600-13999.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import WebSocket from "ws";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import { launchBrowser, type LaunchedBrowser } from "../tests/helpers/browser";
import { findFreePort, REPO_ROOT, startPanel, type Panel } from "../tests/helpers/panel";
import { get, until } from "../tests/helpers/load";
import { scaleTo, startTraffic, web } from "./demo-service";

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const num = (name: string, dflt: number) => Number(argOf(name) ?? dflt);
const REPLICAS = (argOf("replicas") ?? "50").split(",").map(Number);
const VIEWERS = num("viewers", 3);
const SECONDS = num("seconds", 60);
const RPS = num("rps", 50);
const ROUNDS = num("rounds", 1);
const PROFILE_S = num("profile", 0);
const PROBES = num("probes", 5);
const PROFILE_AT = num("profile-at", REPLICAS[0]);
const ENGINE = argOf("engine") ?? "auto";
const INSPECT_PORT = 3599;
const MEMORY = process.argv.includes("--memory");
/** extra node flags for the panel (e.g. "--max-semi-space-size=2"), through NODE_OPTIONS */
const NODE_FLAGS = argOf("node-options") ?? "";
/** above this 1-minute load average (2 per core) a window is not a valid figure of the panel */
const MAX_VALID_LOAD = 2 * os.cpus().length;
const MIN_VALID_TICKS = 0.95;
const CANDIDATES = (argOf("candidates") ?? `current=${REPO_ROOT}`).split(",").map((c) => {
  const [name, dir] = c.split("=");
  return { name, root: path.resolve(dir ?? name) };
});
const ADMIN = { username: "bench", password: "panel cost bench pw" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICKS = 100; // _SC_CLK_TCK (getconf CLK_TCK): 100 on Linux

type ProcSample = { atMs: number; cpuTicks: number; rssBytes: number; syscr: number };
type Row = {
  candidate: string;
  replicas: number;
  viewers: number;
  seconds: number;
  cpuPct: number;
  cpuMsPerReplicaS: number;
  rssMb: number;
  rssMaxMb: number;
  syscrPerS: number;
  syscrPerReplicaS: number;
  /** the collector's ticks a second over the window (1.0: none skipped), from the history a watcher gets */
  ticksPerS: number | null;
  /** request-to-chart latencies of the probes after the window, ms (rows with viewers) */
  latenciesMs: number[];
  loadAvg: number;
};

function readProc(pid: number): ProcSample {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const io = fs.readFileSync(`/proc/${pid}/io`, "utf8");
  return {
    atMs: performance.now(),
    cpuTicks: Number(f[11]) + Number(f[12]), // utime, stime (fields 14, 15)
    rssBytes: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024,
    syscr: Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? 0),
  };
}

/** The panel's server: the deepest node process under the panel's process (npm start → tsx → node). */
function serverPid(rootPid: number): number {
  const parent = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm !== "node") continue;
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (!cmd.includes("scripts/start.ts")) continue;
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const under = (pid: number): boolean => pid === rootPid || (parent.has(pid) && under(parent.get(pid)!));
  const mine = [...parent.keys()].filter(under);
  const leaf = mine.find((p) => !mine.some((q) => parent.get(q) === p));
  if (!leaf) throw new Error(`no panel server process under pid ${rootPid}`);
  return leaf;
}

async function traffic(panel: Panel, cookie: string, id: string): Promise<void> {
  await startTraffic(panel, cookie, id, { rps: RPS, clients: 4, concurrency: 4, durationS: 600 });
}

/** CPU, RSS and read calls of `pid` over `seconds`. */
async function measure(pid: number, candidate: string, replicas: number, viewers: number, seconds: number): Promise<Row> {
  const first = readProc(pid);
  let rssMax = first.rssBytes;
  const end = first.atMs + seconds * 1000;
  while (performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    rssMax = Math.max(rssMax, readProc(pid).rssBytes);
  }
  const last = readProc(pid);
  const wallS = (last.atMs - first.atMs) / 1000;
  const cpuS = (last.cpuTicks - first.cpuTicks) / TICKS;
  const syscr = last.syscr - first.syscr;
  return {
    candidate,
    replicas,
    viewers,
    seconds: wallS,
    cpuPct: (cpuS / wallS) * 100,
    cpuMsPerReplicaS: (cpuS * 1000) / wallS / replicas,
    rssMb: last.rssBytes / 1048576,
    rssMaxMb: rssMax / 1048576,
    syscrPerS: syscr / wallS,
    syscrPerReplicaS: syscr / wallS / replicas,
    ticksPerS: null,
    latenciesMs: [],
    loadAvg: os.loadavg()[0],
  };
}

type Tick = { t: number; serviceId: string; rps: number };
const BURST = 10;

/** A socket.io connection as the service page makes it (same path, cookie, origin), watching `serviceId`. */
async function watcher(panel: Panel, cookie: string, serviceId: string, onTick: (t: Tick, at: number) => void): Promise<{ socket: ClientSocket; history: Tick[] }> {
  const socket = ioClient(panel.url, { path: "/socket.io", transports: ["websocket"], reconnection: false, extraHeaders: { cookie, origin: panel.url } });
  socket.on("tick", (t: Tick) => {
    if (t.serviceId === serviceId) onTick(t, Date.now());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  const ack = (await socket.timeout(30_000).emitWithAck("watch", { serviceId })) as { ok?: boolean; snapshot?: { history?: Tick[] } };
  if (!ack?.ok) throw new Error(`watch refused: ${JSON.stringify(ack)}`);
  return { socket, history: ack.snapshot?.history ?? [] };
}

/** The collector's ticks a second between `fromMs` and `toMs` (wall clock), from the 5-minute history a new watcher gets. */
async function ticksPerSecond(panel: Panel, cookie: string, serviceId: string, fromMs: number, toMs: number): Promise<number> {
  const { socket, history } = await watcher(panel, cookie, serviceId, () => undefined);
  socket.close();
  const lo = Math.ceil(fromMs / 1000) * 1000 + 1000;
  const hi = Math.floor(toMs / 1000) * 1000 - 1000;
  return history.filter((t) => t.t >= lo && t.t <= hi).length / ((hi - lo) / 1000 + 1);
}

/**
 * Request-to-chart latency: with the traffic generator paused (so the probe's requests are
 * the only ones the balancer counts), BURST requests at once through the balancer (the
 * default listener, the demo service's route), then the time from the last one's sending
 * (it was served after that: an upper bound) to the arrival,
 * on a socket.io watcher like the page's, of the tick by which the chart's requests/s has
 * counted all of them. `probes` times, at a random phase against the collector's second;
 * the traffic generator starts again afterwards.
 */
async function latencyProbes(panel: Panel, cookie: string, serviceId: string, balancerPort: number, probes: number): Promise<number[]> {
  const arrivals: { at: number; rps: number }[] = [];
  await panel.request(`/api/services/${serviceId}/traffic`, { method: "DELETE", cookie });
  const { socket } = await watcher(panel, cookie, serviceId, (t, at) => arrivals.push({ at, rps: t.rps }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: BURST });
  const out: number[] = [];
  try {
    await until("two ticks without traffic", () => arrivals.slice(-2), (l) => l.length === 2 && l.every((a) => a.rps === 0), 60_000, 100);
    for (let i = 0; i < probes; i++) {
      await sleep(1000 + Math.random() * 1000);
      const from = arrivals.length;
      const answers = await Promise.all(Array.from({ length: BURST }, () => get(balancerPort, { agent, timeoutMs: 30_000 })));
      const bad = answers.filter((a) => a.status < 200 || a.status > 399).length;
      if (bad > 0) throw new Error(`latency probe: ${bad} of ${BURST} requests answered ${answers.find((a) => a.status < 200 || a.status > 399)?.status}`);
      // served between its send and its answer: from the last send, an upper bound of the latency that a
      // starved bench process (late to read the answers) cannot make shorter than it is
      const sentAt = Math.max(...answers.map((a) => a.sentAt));
      const seenAt = await until(
        "the probe's requests on the watcher's chart",
        () => {
          let counted = 0;
          for (const a of arrivals.slice(from)) {
            counted += a.rps;
            if (counted >= BURST) return a.at;
          }
          return null;
        },
        (v) => v !== null,
        60_000,
        5,
      );
      out.push(seenAt! - sentAt);
    }
  } finally {
    agent.destroy();
    socket.close();
    await traffic(panel, cookie, serviceId);
  }
  return out;
}

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };

/** The server process's inspector (SIGUSR1 opens it on --inspect-port): one DevTools protocol session. */
async function openInspector(pid: number): Promise<{ call: (method: string, params?: object) => Promise<Record<string, unknown>>; close: () => void }> {
  process.kill(pid, "SIGUSR1"); // opens the inspector on --inspect-port (again: a no-op)
  const list = await until(
    "the panel's inspector",
    () => fetch(`http://127.0.0.1:${INSPECT_PORT}/json/list`).then((r) => r.json() as Promise<{ webSocketDebuggerUrl: string }[]>, () => null),
    (l) => l !== null && l.length > 0,
    30_000,
    200,
  );
  const ws = new WebSocket(list![0].webSocketDebuggerUrl);
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  let seq = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = ++seq;
      const onMessage = (data: WebSocket.RawData) => {
        const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown> };
        if (msg.id !== id) return;
        ws.off("message", onMessage);
        resolve(msg.result ?? {});
      };
      ws.on("message", onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => ws.close() };
}

/** What the server process holds, as it says itself (evaluated in it through the inspector). */
const MEMORY_EXPR = `(() => {
  const v8 = require("v8");
  const MB = (b) => Math.round(b / 104857.6) / 10;
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ""), MB(s.space_used_size) + "/" + MB(s.space_size)]));
  const c = globalThis[Symbol.for("switchyard.collector")];
  let ticks = 0, replicaTicks = 0, historyJsonMb = null;
  if (c && c.history) {
    let bytes = 0;
    for (const ring of c.history.values()) {
      const all = ring.last(1e9);
      ticks += all.length;
      for (const t of all) { replicaTicks += t.replicas.length; bytes += JSON.stringify(t).length; }
    }
    historyJsonMb = MB(bytes);
  }
  const trim = globalThis[Symbol.for("switchyard.heap-trim")];
  const state = globalThis[Symbol.for("switchyard.service-state")];
  return JSON.stringify({ serviceStateLoads: state ? state.loads : null, uptimeS: Math.round(process.uptime()), heapTrims: trim ? trim.trims : null, lastTrimPauseMs: trim ? Math.round(trim.lastPauseMs) : null, rssMb: MB(m.rss), heapUsedMb: MB(m.heapUsed), heapTotalMb: MB(m.heapTotal), externalMb: MB(m.external), arrayBuffersMb: MB(m.arrayBuffers), spaces, history: { ticks, replicaTicks, jsonMb: historyJsonMb } });
})()`;

/**
 * The memory breakdown; with `gc`, again after a forced full GC (what is live). The GC lowers the
 * RSS the next windows start from, so it runs after the last window of a replica count only.
 */
async function memoryBreakdown(pid: number, gc: boolean): Promise<string[]> {
  const insp = await openInspector(pid);
  try {
    const evaluate = async () => {
      const r = (await insp.call("Runtime.evaluate", { expression: MEMORY_EXPR, includeCommandLineAPI: true, returnByValue: true })) as { result?: { value?: string }; exceptionDetails?: unknown };
      return r.result?.value ?? `(failed: ${JSON.stringify(r.exceptionDetails ?? r).slice(0, 300)})`;
    };
    const before = await evaluate();
    if (!gc) return [`   memory: ${before}`];
    await insp.call("HeapProfiler.collectGarbage");
    const after = await evaluate();
    return [`   memory: ${before}`, `   after a full GC: ${after}`];
  } finally {
    insp.close();
  }
}

/** `seconds` of the V8 CPU profiler on `pid` through its inspector; the top functions by self time. */
async function profile(pid: number, seconds: number, label: string): Promise<string[]> {
  const { call, close } = await openInspector(pid);
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 1000 });
  await call("Profiler.start");
  await sleep(seconds * 1000);
  const { profile: prof } = (await call("Profiler.stop")) as { profile: { nodes: ProfileNode[]; startTime: number; endTime: number } };
  close();
  const file = path.join(os.tmpdir(), `panel-cost-${label}-${Date.now()}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(prof));
  const total = prof.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  for (const n of prof.nodes) {
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\//, "").replace(/.*\/(node_modules|lib|server|app)\//, "$1/")}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  return [`profile ${label}: ${seconds} s, ${total} samples, written to ${file}`, ...top.map(([k, v]) => `  ${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`)];
}

async function runOnce(candidate: { name: string; root: string }, rows: Row[], profileLines: string[]): Promise<void> {
  const panelPort = await findFreePort(3590, 3597);
  const maxReplicas = Math.max(...REPLICAS);
  const balancerPort = await findFreePort(18720, 18724);
  const panel = await startPanel({
    port: panelPort,
    root: candidate.root,
    startTimeoutMs: 600_000,
    env: {
      ADMIN_USER: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      BALANCER_PORT: String(balancerPort),
      PORT_RANGE: "13600-13999",
      MAX_REPLICAS: String(Math.max(maxReplicas, 20)),
      ENGINE,
      // the panel as npm start runs it: the test helper turns the contract check on (every API answer
      // validated against the OpenAPI document), which is tests-only; --contract keeps it
      SWITCHYARD_CONTRACT: process.argv.includes("--contract") ? "1" : "0",
      NODE_OPTIONS: `${PROFILE_S > 0 || MEMORY ? `--inspect-port=127.0.0.1:${INSPECT_PORT}` : ""} ${NODE_FLAGS}`.trim(),
    },
  });
  const browsers: LaunchedBrowser[] = [];
  try {
    const pid = serverPid(panel.pid);
    const cookie = await panel.login(ADMIN.username, ADMIN.password);
    const svc = (await until("the demo service web", () => web(panel, cookie), (s) => s !== null && s.instances.length > 0, 120_000, 500))!;
    /** One window: CPU, RSS and reads over SECONDS, the collector's ticks a second over it, then the latency probes. */
    const window = async (n: number, viewers: number) => {
      console.log(`[${candidate.name}] ${n} replicas, ${viewers} viewers: measuring ${SECONDS} s…`);
      const from = Date.now();
      const row = await measure(pid, candidate.name, n, viewers, SECONDS);
      row.ticksPerS = await ticksPerSecond(panel, cookie, svc.id, from, Date.now());
      row.latenciesMs = PROBES > 0 ? await latencyProbes(panel, cookie, svc.id, balancerPort, PROBES) : [];
      rows.push(row);
      console.log(`   ${JSON.stringify(row)}`);
      if (MEMORY) for (const l of await memoryBreakdown(pid, viewers > 0 || VIEWERS === 0)) console.log(l);
    };
    for (const n of REPLICAS) {
      console.log(`[${candidate.name}] scaling to ${n} replicas…`);
      // no page open while scaling and in the no-viewer window (a blank page has no socket)
      for (const page of browsers[0]?.context.pages() ?? []) await page.goto("about:blank");
      await scaleTo(panel, cookie, svc.id, n, 900_000);
      await traffic(panel, cookie, svc.id);
      // settle: the scale-up's bookkeeping is over, and the machine has digested n new processes
      await sleep(10_000 + n * 200);
      await window(n, 0);
      if (VIEWERS > 0) {
        if (browsers.length === 0) {
          const browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
          await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
          browsers.push(browser);
          for (let v = 1; v < VIEWERS; v++) await browser.context.newPage();
        }
        for (const page of browsers[0].context.pages()) {
          await page.goto(`${panel.url}/services/${svc.id}`, { timeout: 180_000 });
          await page.getByTestId("service-dashboard").waitFor({ timeout: 180_000 });
        }
        await sleep(10_000);
        await window(n, VIEWERS);
      }
      if (PROFILE_S > 0 && n === PROFILE_AT) profileLines.push(...(await profile(pid, PROFILE_S, `${candidate.name}-${n}r-${VIEWERS}v`)));
    }
  } catch (e) {
    console.error(`[${candidate.name}] failed; the panel's last output:\n${panel.output().slice(-3000)}`);
    throw e;
  } finally {
    for (const b of browsers) await b.close();
    await panel.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function report(rows: Row[], profileLines: string[]): void {
  const fmt = (v: number, d = 1) => v.toFixed(d);
  console.log(`\npanel server process, per run (engine ${ENGINE}, ${RPS} req/s, ${SECONDS} s windows, load average now ${os.loadavg().map((l) => l.toFixed(1)).join(" ")})`);
  console.log("candidate      replicas viewers   cpu %  cpu ms/replica/s  rss MB  rss max MB  syscr/s  syscr/replica/s  ticks/s  latency ms (median, max)  load");
  for (const r of rows) {
    const lat = r.latenciesMs.length ? `${fmt(median(r.latenciesMs), 0)}, ${fmt(Math.max(...r.latenciesMs), 0)}` : "-";
    console.log(
      `${r.candidate.padEnd(15)}${String(r.replicas).padStart(8)}${String(r.viewers).padStart(8)}${fmt(r.cpuPct).padStart(8)}${fmt(r.cpuMsPerReplicaS, 2).padStart(18)}${fmt(r.rssMb, 0).padStart(8)}${fmt(r.rssMaxMb, 0).padStart(12)}${fmt(r.syscrPerS, 0).padStart(9)}${fmt(r.syscrPerReplicaS, 1).padStart(17)}${(r.ticksPerS === null ? "-" : fmt(r.ticksPerS, 2)).padStart(9)}${lat.padStart(26)}${fmt(r.loadAvg).padStart(6)}`,
    );
  }
  console.log("\nmedian (min–max) of the runs; ratio = median / the first candidate's median");
  const base = CANDIDATES[0].name;
  for (const n of REPLICAS) {
    for (const v of [...new Set(rows.map((r) => r.viewers))]) {
      const of = (c: string) => rows.filter((r) => r.candidate === c && r.replicas === n && r.viewers === v);
      for (const c of CANDIDATES) {
        const rs = of(c.name);
        if (rs.length === 0) continue;
        const line = (label: string, pick: (r: Row) => number, d = 1) => {
          const vals = rs.map(pick);
          const baseVals = of(base).map(pick);
          const ratio = c.name === base || baseVals.length === 0 ? "" : `  ratio ${(median(vals) / Math.max(median(baseVals), 1e-9)).toFixed(2)}`;
          return `${label} ${fmt(median(vals), d)} (${fmt(Math.min(...vals), d)}–${fmt(Math.max(...vals), d)})${ratio}`;
        };
        console.log(
          `${c.name.padEnd(12)} ${String(n).padStart(3)} replicas ${v} viewers, ${rs.length} runs: ${line("cpu %", (r) => r.cpuPct)}; ${line("cpu ms/replica/s", (r) => r.cpuMsPerReplicaS, 2)}; ${line("rss max MB", (r) => r.rssMaxMb, 0)}; ${line("syscr/replica/s", (r) => r.syscrPerReplicaS)}`,
        );
      }
    }
  }
  if (REPLICAS.length > 1) {
    console.log(`\ngrowth: cpu ms and read calls per replica per second at ${REPLICAS.at(-1)} replicas / at ${REPLICAS[0]} (1.0 = linear in replicas, flat per replica)`);
    for (const c of CANDIDATES) {
      for (const v of [...new Set(rows.map((r) => r.viewers))]) {
        const at = (n: number, pick: (r: Row) => number) => median(rows.filter((r) => r.candidate === c.name && r.replicas === n && r.viewers === v).map(pick));
        const lo = REPLICAS[0];
        const hi = REPLICAS.at(-1)!;
        console.log(`${c.name.padEnd(12)} ${v} viewers: cpu ${(at(hi, (r) => r.cpuMsPerReplicaS) / at(lo, (r) => r.cpuMsPerReplicaS)).toFixed(2)}, syscr ${(at(hi, (r) => r.syscrPerReplicaS) / at(lo, (r) => r.syscrPerReplicaS)).toFixed(2)}`);
      }
    }
  }
  goals(rows);
  if (profileLines.length) console.log(`\n${profileLines.join("\n")}`);
}

/**
 * The issue's goals against the medians of the runs, per candidate: PASS or MISS, with the figure.
 * Printed, not asserted: CPU % depends on how busy the machine is (the load average is in each row).
 */
function goals(rows: Row[]): void {
  console.log("\ngoals (issue 18, the panel's own cost), medians of the runs:");
  for (const c of CANDIDATES) {
    const of = (n: number, v: number) => rows.filter((r) => r.candidate === c.name && r.replicas === n && r.viewers === v);
    const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
    const line = (goal: string, figure: string, ok: boolean, invalid: string | null = null) =>
      console.log(`  ${c.name.padEnd(12)} ${invalid ? "NOT VALID" : verdict(ok)}  ${goal}: ${figure}${invalid ? ` [${invalid}: ${verdict(ok)} as measured, which proves nothing]` : ""}`);
    /** why these windows' CPU is not a figure of the panel: a machine too loaded, or ticks skipped */
    const invalidity = (rs: Row[]): string | null => {
      const load = Math.max(...rs.map((r) => r.loadAvg));
      const ticks = Math.min(...rs.map((r) => r.ticksPerS ?? 0));
      const why = [load > MAX_VALID_LOAD ? `load average ${load.toFixed(1)} > ${MAX_VALID_LOAD} (2 per core)` : "", ticks < MIN_VALID_TICKS ? `${ticks.toFixed(2)} ticks/s < ${MIN_VALID_TICKS}` : ""].filter(Boolean);
      return why.length ? `the machine was too busy for this figure: ${why.join(", ")}` : null;
    };
    const at50 = of(50, 3);
    if (at50.length) {
      const cpu = median(at50.map((r) => r.cpuPct));
      const rss = median(at50.map((r) => r.rssMaxMb));
      line("50 replicas, 3 viewers: ≤ 10 % of a core", `${cpu.toFixed(1)} % (load ${median(at50.map((r) => r.loadAvg)).toFixed(1)})`, cpu <= 10, invalidity(at50));
      line("50 replicas, 3 viewers: ≤ 300 MB RSS (largest seen)", `${rss.toFixed(0)} MB`, rss <= 300);
    } else console.log(`  ${c.name.padEnd(12)} -     50 replicas, 3 viewers: not measured (--replicas 50 --viewers 3)`);
    for (const v of [...new Set(rows.map((r) => r.viewers))]) {
      const at200 = of(200, v);
      if (!at200.length) continue;
      const cpu = median(at200.map((r) => r.cpuPct));
      line(`200 replicas, ${v} viewers: ≤ 25 % of a core`, `${cpu.toFixed(1)} % at ${median(at200.map((r) => r.ticksPerS ?? 0)).toFixed(2)} ticks/s (load ${median(at200.map((r) => r.loadAvg)).toFixed(1)})`, cpu <= 25, invalidity(at200));
    }
    const lats = rows.filter((r) => r.candidate === c.name && r.viewers > 0).flatMap((r) => r.latenciesMs);
    if (lats.length) {
      const worst = Math.max(...lats);
      line("a request on a viewer's chart ≤ 1.5 s after it was served (every probe)", `median ${median(lats).toFixed(0)} ms, max ${worst.toFixed(0)} ms over ${lats.length} probes`, worst <= 1500);
    }
    const ns = [...new Set(rows.filter((r) => r.candidate === c.name).map((r) => r.replicas))].sort((a, b) => a - b);
    if (ns.length > 1) {
      const perReplica = (n: number) => median(of(n, 0).map((r) => r.cpuMsPerReplicaS));
      const series = ns.map((n) => `${n}: ${perReplica(n).toFixed(2)}`).join(", ");
      // flat or falling per replica (sublinear in all): the largest count's no more than the smallest's, with 15 % for noise
      const growth = perReplica(ns.at(-1)!) / perReplica(ns[0]);
      line("cost per replica per second flat or falling (no viewer, CPU ms per replica per s)", `${series} (${ns.at(-1)} / ${ns[0]}: ${growth.toFixed(2)})`, growth <= 1.15, invalidity(rows.filter((r) => r.candidate === c.name && r.viewers === 0)));
    }
  }
}

async function main(): Promise<void> {
  // A B B A …: each candidate as often first as second, so a machine getting busier or quieter
  // over the run weighs on both alike.
  const order: { name: string; root: string }[] = [];
  for (let i = 0; i < ROUNDS; i++) order.push(...(i % 2 === 0 ? CANDIDATES : [...CANDIDATES].reverse()));
  const rows: Row[] = [];
  const profileLines: string[] = [];
  try {
    for (const c of order) await runOnce(c, rows, profileLines);
  } finally {
    report(rows, profileLines); // what was measured, also when a later window failed
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
