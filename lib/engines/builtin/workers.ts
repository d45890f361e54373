/**
 * The builtin proxy on every core (issue 18): one primary process and N workers
 * (node:cluster) that share each listening socket. What stays one proxy:
 *
 * - the primary is the process the engine supervises: its pid is in proxy.pid, it serves
 *   the control socket, and its workers die with it (a cluster worker exits when its
 *   channel to the primary closes); a worker that dies is replaced by a new one that loads
 *   the primary's live config (runtime state and weight changes included);
 * - health is decided once, in the primary: it runs the active checks and keeps each
 *   server's passive failure window (workers report their failed attempts), and tells every
 *   worker when a server goes up or down;
 * - counters are the workers' own, summed by the primary when it is asked for stats
 *   (exact: each worker answers with its counts at that moment); the counts of a worker that
 *   died are kept as its last report (what it served after that report is lost);
 * - a config goes to one worker first (it binds new listeners and reads certificates: a
 *   refusal there changes nothing anywhere), then to the others; should one of those refuse,
 *   the workers that took it load the previous config again, and the load fails. The
 *   primary takes it last;
 * - state and weight changes reach every worker before the control socket answers.
 *
 * Stickiness needs nothing shared: a cookie names the replica, source and URI hashing are
 * consistent hashes. Round robin and least connections run per worker (each worker's
 * share follows the weights; least_conn counts the worker's own in-flight requests).
 */
import cluster, { type Worker } from "node:cluster";
import type { AdminState } from "../../core/rules";
import type { BalancerConfig, ServerStats } from "../types";
import type { HealthState } from "./health";
import type { Failure } from "./http-rules";
import { type ActiveEntry, BuiltinProxy, type Log, type WorkerServerCounters, sumCounters } from "./proxy";
import { sleep } from "../../process/sleep";
import { type ForkedWorker, forkWorker } from "./worker-fork";

type HealthEntry = { service: string; server: string; health: HealthState };

type Request =
  | { op: "load"; config: BalancerConfig; health: HealthEntry[] }
  | { op: "setState"; service: string; server: string; state: AdminState }
  | { op: "setWeight"; service: string; server: string; weight: number }
  | { op: "counters" };

type ToWorker = ({ id: number } & Request) | { op: "health"; entry: HealthEntry } | { op: "others"; entries: ActiveEntry[] } | { op: "shutdown"; graceMs: number };

type FromWorker = { op: "hello" } | { op: "reply"; id: number; ok: true; result?: unknown } | { op: "reply"; id: number; ok: false; error: string } | { op: "passive"; service: string; server: string; why: Failure; detail: string } | { op: "active"; entries: ActiveEntry[] };

type Slot = {
  worker: Worker;
  hello: Promise<void>;
  pid: number;
  /** has loaded the live config: takes part in loads, changes and stats */
  ready: boolean;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  /** its last counters report: kept when it dies */
  last: WorkerServerCounters[];
  startedAt: number;
  /** its in-flight counts by "service/server" (least_conn and random_two services) */
  active: Map<string, number>;
};

/** How long a worker may take to answer the primary (a load binds sockets and reads certificates). */
const WORKER_TIMEOUT_MS = 10_000;
/** A worker that dies within this long of its start makes the next replacement wait longer (a crash loop backs off). */
const QUICK_DEATH_MS = 5_000;

export class WorkerPool {
  private slots = new Map<number, Slot>();
  private nextId = 1;
  private stopping = false;
  /** changes one at a time: a replacement worker loads the config the last load left */
  private chain: Promise<unknown> = Promise.resolve();
  /** counters of workers that died, by "service/server" */
  private retired = new Map<string, WorkerServerCounters>();
  private quickDeaths = 0;

  /** `proxy` is the primary's (role primary: checks, passive windows, the live config). */
  constructor(
    private readonly proxy: BuiltinProxy,
    private readonly count: number,
    private readonly log: Log,
  ) {
    cluster.on("exit", (worker, code, signal) => this.onExit(worker, code, signal));
  }

  /** The pids of the workers that serve (have loaded the live config), in start order. */
  get pids(): number[] {
    return [...this.slots.values()].filter((s) => s.ready).map((s) => s.pid);
  }

  /** Tell every worker that a server's health changed (the primary proxy's onHealth). */
  broadcastHealth(entry: HealthEntry): void {
    for (const slot of this.slots.values()) if (slot.ready) send(slot.worker, { op: "health", entry });
  }

  /**
   * Start serving `config` (the primary loads it first) with the workers `early` forked
   * before the primary's modules loaded: resolves once one worker serves it (rejects when
   * none can take it); the others join as they come (a load waits for them). A worker that
   * cannot start is killed and replaced.
   */
  start(config: BalancerConfig, early: ForkedWorker[]): Promise<void> {
    return this.serial(async () => {
      await this.proxy.load(config);
      const forked = [...early, ...Array.from({ length: Math.max(0, this.count - early.length) }, forkWorker)];
      const inits = forked.map((f) => {
        const slot = this.adopt(f);
        return this.init(slot).catch((e: Error) => {
          this.log(`worker ${slot.pid} could not start: ${e.message}`);
          if (!slot.worker.isDead()) slot.worker.process.kill("SIGKILL");
          throw e;
        });
      });
      this.chain = this.chain.then(() => Promise.allSettled(inits));
      await Promise.any(inits).catch((e: AggregateError) => {
        throw e.errors[0] as Error;
      });
    });
  }

  /** Load `config` everywhere, or nowhere (see the file's comment). */
  load(config: BalancerConfig): Promise<void> {
    return this.serial(async () => {
      const previous = this.proxy.config;
      const ready = [...this.slots.values()].filter((s) => s.ready);
      const health = this.proxy.healthSnapshot();
      const [first, ...rest] = ready;
      if (first) await this.call(first, { op: "load", config, health });
      const results = await Promise.allSettled(rest.map((s) => this.call(s, { op: "load", config, health })));
      const refused = results.flatMap((r, i) => (r.status === "rejected" && !isGone(r.reason) ? [{ slot: rest[i], error: r.reason as Error }] : []));
      if (refused.length > 0) {
        if (previous) {
          const took = [first, ...rest.filter((_, i) => results[i].status === "fulfilled")].filter((s): s is Slot => s !== undefined);
          await Promise.allSettled(took.map((s) => this.call(s, { op: "load", config: previous, health })));
        }
        throw new Error(`worker ${refused[0].slot.pid} refused the config (the others were put back): ${refused[0].error.message}`);
      }
      await this.proxy.load(config);
    });
  }

  setState(service: string, server: string, state: AdminState): Promise<void> {
    return this.serial(async () => {
      this.proxy.setState(service, server, state); // throws for an unknown server: no worker is asked
      await this.everyWorker({ op: "setState", service, server, state });
    });
  }

  setWeight(service: string, server: string, weight: number): Promise<void> {
    return this.serial(async () => {
      this.proxy.setWeight(service, server, weight);
      await this.everyWorker({ op: "setWeight", service, server, weight });
    });
  }

  /** Every server once: the primary's health and config, the workers' counters summed (those that died included). */
  async stats(): Promise<ServerStats[]> {
    const ready = [...this.slots.values()].filter((s) => s.ready);
    const lists = await Promise.all(
      ready.map(async (s) => {
        try {
          s.last = (await this.call(s, { op: "counters" })) as WorkerServerCounters[];
        } catch {
          // died while asked: its last report is in `retired` by now
          return [];
        }
        return s.last;
      }),
    );
    return this.proxy.stats([...lists, [...this.retired.values()]]);
  }

  /** Drain every worker for up to `graceMs`, then kill what is left. */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    const slots = [...this.slots.values()];
    for (const s of slots) send(s.worker, { op: "shutdown", graceMs });
    const deadline = Date.now() + graceMs + 2_000;
    while (slots.some((s) => !s.worker.isDead()) && Date.now() < deadline) await sleep(25);
    for (const s of slots) if (!s.worker.isDead()) s.worker.process.kill("SIGKILL");
    await this.proxy.shutdown(0);
  }

  // ---------------------------------------------------------------------------

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private adopt({ worker, hello }: ForkedWorker): Slot {
    const slot: Slot = { worker, hello, pid: worker.process.pid ?? 0, ready: false, pending: new Map(), last: [], startedAt: Date.now(), active: new Map() };
    this.slots.set(worker.id, slot);
    worker.on("message", (m: FromWorker) => this.onMessage(slot, m));
    worker.on("error", (e) => this.log(`worker ${slot.pid}: ${e.message}`));
    return slot;
  }

  /** Wait for the worker's hello, then give it the live config and every server's health. */
  private async init(slot: Slot): Promise<void> {
    await slot.hello;
    const config = this.proxy.config;
    if (!config) throw new Error("no config to give the worker");
    await this.call(slot, { op: "load", config, health: this.proxy.healthSnapshot() });
    slot.ready = true;
  }

  private call(slot: Slot, req: Request): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        slot.pending.delete(id);
        reject(new Error(`worker ${slot.pid} did not answer ${req.op} within ${WORKER_TIMEOUT_MS} ms`));
      }, WORKER_TIMEOUT_MS);
      slot.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      send(slot.worker, { id, ...req });
    });
  }

  /** A change every ready worker must take (a worker that dies meanwhile is replaced with the primary's config, which has it). */
  private async everyWorker(req: Request): Promise<void> {
    const results = await Promise.allSettled([...this.slots.values()].filter((s) => s.ready).map((s) => this.call(s, req)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected" && !isGone(r.reason));
    if (failed) throw failed.reason;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.op === "reply") {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    } else if (m.op === "passive") {
      this.proxy.passiveReport(m.service, m.server, m.why, m.detail);
    } else if (m.op === "active") {
      for (const e of m.entries) slot.active.set(`${e.service}/${e.server}`, e.active);
      this.scheduleOthers();
    }
  }

  private othersScheduled = false;

  /** Tell each worker the in-flight counts of the others (once per turn of the event loop). */
  private scheduleOthers(): void {
    if (this.othersScheduled) return;
    this.othersScheduled = true;
    setImmediate(() => {
      this.othersScheduled = false;
      const total = new Map<string, number>();
      for (const slot of this.slots.values()) for (const [k, n] of slot.active) total.set(k, (total.get(k) ?? 0) + n);
      for (const slot of this.slots.values()) {
        if (!slot.ready) continue;
        const entries = [...total].map(([k, n]) => {
          const [service, server] = k.split("/");
          return { service, server, active: n - (slot.active.get(k) ?? 0) };
        });
        if (entries.length > 0) send(slot.worker, { op: "others", entries });
      }
    });
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.slots.get(worker.id);
    if (!slot) return;
    this.slots.delete(worker.id);
    for (const p of slot.pending.values()) p.reject(gone(slot.pid));
    slot.pending.clear();
    if (slot.active.size > 0) this.scheduleOthers();
    if (slot.ready) for (const w of slot.last) this.retire(w);
    if (this.stopping) return;
    const quick = Date.now() - slot.startedAt < QUICK_DEATH_MS;
    this.quickDeaths = quick ? this.quickDeaths + 1 : 0;
    const delay = this.quickDeaths === 0 ? 0 : Math.min(10_000, 250 * 2 ** this.quickDeaths);
    this.log(`worker ${slot.pid} exited (${signal ?? `code ${code}`}); a new one starts${delay ? ` in ${delay} ms` : ""}`);
    setTimeout(() => {
      if (this.stopping) return;
      const next = this.adopt(forkWorker());
      this.serial(() => this.init(next)).then(
        () => this.log(`worker ${next.pid} replaces ${slot.pid}`),
        (e: Error) => {
          this.log(`worker ${next.pid} could not start: ${e.message}`);
          if (!next.worker.isDead()) next.worker.process.kill("SIGKILL");
        },
      );
    }, delay).unref();
  }

  private retire(w: WorkerServerCounters): void {
    const key = `${w.service}/${w.server}`;
    const had = this.retired.get(key);
    this.retired.set(key, { service: w.service, server: w.server, active: 0, counters: had ? sumCounters([had.counters, w.counters]) : w.counters });
  }
}

/** The worker's side: a worker-role proxy driven by the primary's messages. */
export function runWorker(log: Log, upstreamConnections: number): void {
  const proxy = new BuiltinProxy(log, {
    role: {
      kind: "worker",
      onPassive: (service, server, why, detail) => reply({ op: "passive", service, server, why, detail }),
      onActive: (entries) => reply({ op: "active", entries }),
    },
    upstreamConnections,
  });
  const answer = async (m: ToWorker): Promise<unknown> => {
    switch (m.op) {
      case "load":
        await proxy.load(m.config);
        for (const h of m.health) proxy.applyHealth(h.service, h.server, h.health);
        return proxy.generation;
      case "setState":
        proxy.setState(m.service, m.server, m.state);
        return null;
      case "setWeight":
        proxy.setWeight(m.service, m.server, m.weight);
        return null;
      case "counters":
        return proxy.counters();
      default:
        return null;
    }
  };
  let stopping = false;
  process.on("message", (m: ToWorker) => {
    if (m.op === "health") {
      proxy.applyHealth(m.entry.service, m.entry.server, m.entry.health);
      return;
    }
    if (m.op === "others") {
      proxy.applyOthersActive(m.entries);
      return;
    }
    if (m.op === "shutdown") {
      if (stopping) return;
      stopping = true;
      void proxy.shutdown(m.graceMs).finally(() => process.exit(0));
      return;
    }
    answer(m).then(
      (result) => reply({ op: "reply", id: m.id, ok: true, result }),
      (e: Error) => reply({ op: "reply", id: m.id, ok: false, error: e.message }),
    );
  });
  // the primary is gone (killed, crashed): a worker never outlives it
  process.on("disconnect", () => process.exit(0));
  log(`worker up after ${Math.round(process.uptime() * 1000)} ms`);
  reply({ op: "hello" });
}

function reply(m: FromWorker): void {
  if (process.connected) process.send!(m);
}

function send(worker: Worker, m: ToWorker): void {
  if (worker.isConnected()) worker.send(m);
}

class WorkerGone extends Error {}
const gone = (pid: number) => new WorkerGone(`worker ${pid} exited`);
const isGone = (e: unknown) => e instanceof WorkerGone;
