/**
 * The reconciler against in-memory fakes (the Kubernetes sample-controller way): a fake
 * Runtime, a fake RunningEngine and a fake repository record every action the controller takes,
 * and the tests assert those actions and their order. The real things are measured by the
 * integration tests (tests/integration/controller.test.ts and the others); these say what
 * the controller decides, in milliseconds, with nothing running.
 */
import { describe, expect, it } from "vitest";
import { defaultRules, type Rules } from "@/lib/core/rules";
import type { NewEvent } from "@/lib/events";
import { serverNameFor, type BalancerConfig, type RunningEngine, type EngineStatus } from "@/lib/engines/types";
import type { ReplicaSpec, Runtime, RuntimeReplica } from "@/lib/runtime/types";
import { toServer } from "@/lib/db/balancer-config";
import { EngineSupervisor } from "@/lib/controller/engine-supervisor";
import { Reconciler } from "@/lib/controller/reconciler";
import type { ControllerRepository, NewReplica, ReplicaPatch, ReplicaRecord, ServiceRecord } from "@/lib/controller/repository";
import type { Timers } from "@/lib/controller/work-queue";

const SVC = "svc-1";

type Row = ReplicaRecord & { adminAddr: string | null; startedAt: Date | null; lastError: string | null };

/** Every action, in the order taken: "create <replica>", "health <replica>", "engine.add <replica>", "engine.drain <replica>", "engine.remove <replica>", "stop <replica>", "remove <replica>". */
type Actions = string[];

class FakeRepository implements ControllerRepository {
  readonly rows = new Map<string, Row>();
  readonly events: NewEvent[] = [];
  private clock = 1_000;

  constructor(
    public svc: ServiceRecord | null,
    private readonly rulesOf: Rules = defaultRules(),
  ) {}

  async serviceIds() {
    return this.svc ? [this.svc.id] : [];
  }
  async service(id: string) {
    const svc = this.svc;
    return svc && svc.id === id ? { ...svc } : null;
  }
  async rules(serviceId: string) {
    return this.svc?.id === serviceId ? this.rulesOf : null;
  }
  async replicaSpec(serviceId: string, replicaId: string): Promise<ReplicaSpec | null> {
    const svc = this.svc;
    if (!svc || svc.id !== serviceId) return null;
    return { serviceId, serviceName: svc.name, replicaId, env: {}, dataPort: 8000, adminPort: 9000, adminToken: "t", memoryLimitMb: 128, cpuLimit: null };
  }
  async replicas(serviceId: string) {
    return [...this.rows.values()].filter((r) => r.serviceId === serviceId).map((r) => ({ ...r }));
  }
  async replica(id: string) {
    const r = this.rows.get(id);
    return r ? { ...r } : null;
  }
  async createReplica(row: NewReplica) {
    if (this.rows.has(row.id)) throw new Error(`duplicate replica ${row.id}`);
    this.rows.set(row.id, {
      id: row.id,
      serviceId: row.serviceId,
      state: row.state,
      adminState: "ready",
      weight: 100,
      inEngine: false,
      runtimeRef: row.runtimeRef ?? null,
      dataAddr: row.dataAddr ?? null,
      adminAddr: row.adminAddr ?? null,
      startedAt: row.startedAt ?? null,
      lastError: null,
      createdAt: new Date(this.clock++),
    });
  }
  async updateReplica(id: string, patch: ReplicaPatch) {
    const r = this.rows.get(id);
    if (!r) throw new Error(`no replica ${id}`);
    const { health: _h, healthReason: _r, ...kept } = patch;
    Object.assign(r, kept);
    return { ...r };
  }
  async deleteReplica(id: string) {
    if (!this.rows.delete(id)) throw new Error(`no replica ${id}`);
  }
  async lowerDesiredAndDrain(serviceId: string, replicaId: string, desired: number) {
    if (this.svc && this.svc.id === serviceId) this.svc.desired = desired;
    await this.updateReplica(replicaId, { state: "draining" });
  }
  async balancerService(serviceId: string) {
    const svc = this.svc;
    if (!svc || svc.id !== serviceId) return null;
    const servers = [...this.rows.values()].filter((r) => r.serviceId === serviceId && r.inEngine).flatMap((r) => toServer(r) ?? []);
    return { id: serviceId, name: svc.name, rules: this.rulesOf, servers };
  }
  async balancerConfig(): Promise<BalancerConfig> {
    const service = this.svc ? await this.balancerService(this.svc.id) : null;
    return { listen: { host: "127.0.0.1", port: 18000 }, services: service ? [service] : [] };
  }
  async recordEvent(e: NewEvent) {
    this.events.push(e);
  }
  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
}

/** A runtime of pretend processes: replica id -> what list() reports. */
class FakeRuntime {
  readonly kind = "process" as const;
  readonly running = new Map<string, RuntimeReplica>();
  failList: Error | null = null;
  failCreate: Error | null = null;
  private port = 30_000;

  constructor(private readonly actions: Actions) {}

  /** a replica that runs already (the panel restarted, or it is about to die) */
  add(replicaId: string, state: RuntimeReplica["state"] = "running"): RuntimeReplica {
    const port = this.port++;
    const r: RuntimeReplica = { replicaId, serviceId: SVC, serviceName: "web", runtimeRef: `pid-${replicaId}`, dataAddr: { host: "127.0.0.1", port }, adminAddr: { host: "127.0.0.1", port: port + 1000 }, state, startedAt: new Date(0), exitCode: state === "running" ? null : 137, oomKilled: false };
    this.running.set(replicaId, r);
    return r;
  }
  private byRef(ref: string): RuntimeReplica | undefined {
    return [...this.running.values()].find((r) => r.runtimeRef === ref);
  }

  async available() {
    return { ok: true as const };
  }
  async list() {
    if (this.failList) throw this.failList;
    return [...this.running.values()];
  }
  async create(spec: ReplicaSpec) {
    this.actions.push(`create ${spec.replicaId}`);
    await new Promise((r) => setImmediate(r)); // a spawn takes a moment
    if (this.failCreate) throw this.failCreate;
    return this.add(spec.replicaId);
  }
  async stop(ref: string) {
    const r = this.byRef(ref);
    this.actions.push(`stop ${r?.replicaId ?? ref}`);
    if (r) r.state = "exited";
  }
  async remove(ref: string) {
    const r = this.byRef(ref);
    this.actions.push(`remove ${r?.replicaId ?? ref}`);
    if (r) this.running.delete(r.replicaId);
  }
  async restart(ref: string) {
    return this.byRef(ref)!;
  }
  async inspect(ref: string) {
    return this.byRef(ref) ?? null;
  }
  async stats() {
    return null;
  }
  async logs() {
    return [];
  }
  onEvent() {
    return () => undefined;
  }
}

/** An engine that keeps its server list in memory; `adopted`: it was found running, serving `servers`; `served`: its stored model (addresses, weights, states). */
function fakeEngine(actions: Actions, opts: { adopted?: boolean; servers?: string[] } = {}, served: () => Promise<BalancerConfig | null> = async () => null) {
  const servers = new Map<string, "ready" | "drain" | "maint">((opts.servers ?? []).map((s) => [s, "ready"]));
  const replicaOf = (name: string) => name.replace(/^r-/, "");
  const status = (): EngineStatus => ({ kind: "builtin", running: true, version: null, mode: "supervised", pid: null, listen: { host: "127.0.0.1", port: 18000 }, location: "memory", adopted: opts.adopted ?? false });
  const engine = {
    kind: "builtin",
    render: (config: BalancerConfig) => JSON.stringify(config),
    servedConfig: served,
    apply: async () => {
      actions.push("engine.apply");
      return { ok: true as const, reloaded: true };
    },
    start: async () => undefined,
    status: async () => status(),
    stats: async () => ({ at: Date.now(), servers: [...servers.keys()].map((server) => ({ service: "web", server, totalRequests: 0, activeConnections: 0, responses: { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 }, connectionErrors: 0, retries: 0, redispatches: 0, health: { status: "up" as const, reason: null, lastChangeMs: null } })) }),
    addServer: async (_s: unknown, server: { name: string; replicaId: string }) => {
      actions.push(`engine.add ${server.replicaId}`);
      servers.set(server.name, "ready");
    },
    removeServer: async (_s: unknown, name: string) => {
      actions.push(`engine.remove ${replicaOf(name)}`);
      servers.delete(name);
    },
    setServerState: async (_s: unknown, name: string, state: "ready" | "drain" | "maint") => {
      actions.push(`engine.${state} ${replicaOf(name)}`);
      servers.set(name, state);
    },
  };
  return { engine: engine as unknown as RunningEngine, servers };
}

/** Timers the test fires itself: the delays the controller asked for, in order. */
class ManualTimers implements Timers {
  readonly asked: number[] = [];
  private pending: (() => void)[] = [];
  set(fn: () => void, ms: number) {
    this.asked.push(ms);
    this.pending.push(fn);
    return fn;
  }
  clear(handle: unknown) {
    this.pending = this.pending.filter((f) => f !== handle);
  }
  fireAll() {
    const due = this.pending;
    this.pending = [];
    for (const f of due) f();
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/** The controller's parts as the panel assembles them, around fakes. Replica ids are generated; names use `replicaId`. */
async function setup(opts: { desired: number; engine?: { adopted?: boolean; servers?: string[] }; down?: Set<string> }) {
  const actions: Actions = [];
  const repo = new FakeRepository({ id: SVC, name: "web", desired: opts.desired, runtime: "process" });
  const runtime = new FakeRuntime(actions);
  // an adopted engine's stored model is the database's: it kept serving what the panel last gave it
  const { engine, servers } = fakeEngine(actions, opts.engine, () => repo.balancerConfig());
  const timers = new ManualTimers();
  const supervisor = new EngineSupervisor({ engine: () => engine, repo });
  const start = async () => {
    expect(await supervisor.ensureEngine()).toBe(true);
    return new Reconciler({
      repo,
      runtimeFor: () => runtime as Runtime,
      engine: supervisor,
      waitHealthy: async (_addr, o) => {
        actions.push(`health ${o.replicaId}`);
        if (opts.down?.has(o.replicaId ?? "")) return { ok: false, status: null, reason: "connection refused", body: null };
        return { ok: true, status: 200, reason: "HTTP 200", body: null };
      },
      sleep: () => tick(),
      timers,
    });
  };
  /** a replica that ran before: a ready row in the engine, a running process */
  const existing = async (id: string) => {
    const r = runtime.add(id);
    await repo.createReplica({ id, serviceId: SVC, runtime: "process", state: "ready", runtimeRef: r.runtimeRef, dataAddr: `${r.dataAddr.host}:${r.dataAddr.port}`, adminAddr: `${r.adminAddr.host}:${r.adminAddr.port}` });
    await repo.updateReplica(id, { inEngine: true });
    servers.set(serverNameFor(id), "ready");
  };
  return { actions, repo, runtime, servers, timers, start, existing };
}

const idsOf = (actions: Actions, verb: string) => actions.filter((a) => a.startsWith(`${verb} `)).map((a) => a.slice(verb.length + 1));

describe("the reconciler, against fakes", () => {
  it("create: desired 3, none running -> 3 creates, each added to the engine only after it is healthy", async () => {
    const t = await setup({ desired: 3 });
    const rec = await t.start();
    rec.kick(SVC);
    await rec.settle(SVC, 5000);

    const created = idsOf(t.actions, "create");
    expect(created).toHaveLength(3);
    for (const id of created) {
      const at = (a: string) => t.actions.indexOf(`${a} ${id}`);
      expect(at("create")).toBeLessThan(at("health"));
      expect(at("health")).toBeLessThan(at("engine.add"));
    }
    expect(idsOf(t.actions, "engine.add").sort()).toEqual([...created].sort());
    expect(t.actions.filter((a) => /^(stop|remove|engine\.remove|engine\.drain)/.test(a))).toEqual([]);
    expect([...t.repo.rows.values()].map((r) => [r.state, r.inEngine])).toEqual([
      ["ready", true],
      ["ready", true],
      ["ready", true],
    ]);
    expect(t.repo.kinds().filter((k) => k === "replica.ready")).toHaveLength(3);
  });

  it("replace a dead replica: out of the engine, cleaned up, and one new replica brought up", async () => {
    const t = await setup({ desired: 3 });
    for (const id of ["a", "b", "c"]) await t.existing(id);
    t.runtime.running.get("b")!.state = "exited"; // it died
    const rec = await t.start();
    rec.kick(SVC);
    await rec.settle(SVC, 5000);

    const [fresh, ...more] = idsOf(t.actions, "create");
    expect(more).toEqual([]);
    expect(t.actions).toEqual(expect.arrayContaining(["engine.remove b", "stop b", "remove b", `create ${fresh}`, `health ${fresh}`, `engine.add ${fresh}`]));
    expect(t.actions.indexOf("engine.remove b")).toBeLessThan(t.actions.indexOf("stop b"));
    expect(t.actions.filter((a) => / (a|c)$/.test(a))).toEqual([]); // the living are not touched
    expect([...t.repo.rows.keys()].sort()).toEqual(["a", "c", fresh].sort());
    expect(t.repo.events.find((e) => e.kind === "replica.died")?.replicaId).toBe("b");
  });

  it("scale in with drain: the newest replica is drained, then removed from the engine, then stopped", async () => {
    const t = await setup({ desired: 2 });
    for (const id of ["a", "b", "c"]) await t.existing(id);
    const rec = await t.start();
    rec.kick(SVC);
    await until("the victim gone", () => !t.repo.rows.has("c"));
    await rec.settle(SVC, 5000);

    expect(t.actions).toEqual(["engine.drain c", "engine.remove c", "stop c", "remove c"]);
    expect(t.servers.has(serverNameFor("c"))).toBe(false);
    expect([...t.repo.rows.keys()].sort()).toEqual(["a", "b"]);
    expect(t.repo.kinds().filter((k) => k.startsWith("replica."))).toEqual(["replica.draining", "replica.stopped"]);
  });

  it("adopt after restart: running replicas with their rows, an engine that kept serving -> nothing created or stopped", async () => {
    const t = await setup({ desired: 3, engine: { adopted: true } });
    for (const id of ["a", "b", "c"]) await t.existing(id);
    const rec = await t.start(); // a new panel process: a new supervisor and reconciler, no memory
    rec.kick(SVC);
    await rec.settle(SVC, 5000);
    await tick();

    expect(t.actions).toEqual([]); // not even a re-apply: the engine serves exactly the rows
    expect(t.repo.kinds()).toEqual(["engine.adopted"]);
  });

  it("adopt after restart: a running replica the database lost is adopted and put in rotation, not replaced", async () => {
    const t = await setup({ desired: 2, engine: { adopted: true } });
    await t.existing("a");
    t.runtime.add("b"); // runs, but its row is gone
    const rec = await t.start();
    rec.kick(SVC);
    await rec.settle(SVC, 5000);

    expect(t.actions.filter((a) => !a.startsWith("engine.apply"))).toEqual(["health b", "engine.add b"]);
    expect(t.repo.events.filter((e) => e.kind === "replica.adopted").map((e) => e.replicaId)).toEqual(["b"]);
  });

  it("backoff on a failing runtime: requeued with growing delays, capped at 30 s, each retry an event", async () => {
    const t = await setup({ desired: 3 });
    t.runtime.failList = new Error("docker daemon not reachable");
    const rec = await t.start();
    rec.kick(SVC);
    for (let n = 1; n <= 7; n++) {
      await until(`retry ${n} asked for`, () => t.timers.asked.length === n);
      rec.kick(SVC); // kicks while a backoff is pending change nothing
      expect(t.timers.asked).toHaveLength(n);
      t.timers.fireAll();
    }
    await until("the eighth retry", () => t.timers.asked.length === 8);

    expect(t.timers.asked).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    const retries = t.repo.events.filter((e) => e.kind === "controller.retry");
    expect(retries).toHaveLength(8);
    expect(retries[0]).toMatchObject({ level: "warn", serviceId: SVC });
    expect(retries.map((e) => /retrying in (\d+) s/.exec(e.message)?.[1])).toEqual(["1", "2", "4", "8", "16", "30", "30", "30"]);
    expect(retries[0].message).toContain("docker daemon not reachable");
    expect(t.actions).toEqual([]);

    // the runtime answers again: the next retry creates the replicas and the backoff is over
    t.runtime.failList = null;
    t.timers.fireAll();
    await rec.settle(SVC, 5000);
    expect(idsOf(t.actions, "engine.add")).toHaveLength(3);
    expect(t.timers.asked).toHaveLength(8);
  });

  it("backoff on a failing runtime: a replica that cannot be created is recorded as failed and replaced only when its backoff timer fires", async () => {
    const t = await setup({ desired: 1 });
    t.runtime.failCreate = new Error("port range exhausted");
    const rec = await t.start();
    rec.kick(SVC);
    await until("a backoff asked for", () => t.timers.asked.length === 1);
    await tick();
    expect(idsOf(t.actions, "create")).toHaveLength(1); // no replacement before the delay
    expect(t.repo.events.find((e) => e.kind === "replica.failed")?.message).toContain("port range exhausted");

    for (let n = 2; n <= 4; n++) {
      t.timers.fireAll();
      await until(`backoff ${n}`, () => t.timers.asked.length === n);
      await tick();
      expect(idsOf(t.actions, "create")).toHaveLength(n); // one replacement per delay, never a storm
    }
    expect(t.timers.asked.every((d) => d >= 1000 && d <= 30_000)).toBe(true);
    expect(t.repo.kinds().filter((k) => k === "replica.failed")).toHaveLength(4);
    expect(t.repo.kinds().filter((k) => k === "replica.removed")).toHaveLength(3); // each failed one cleaned up
  });
});

describe("a service whose instances the panel did not start (external endpoints, discovered containers)", () => {
  it("follows what the runtime lists: adopts after the health check, drains out what goes, never creates, stops or removes", async () => {
    const { actions, repo, runtime, start } = await setup({ desired: 0 });
    repo.svc = { ...repo.svc!, source: { kind: "external", endpoints: ["127.0.0.1:30000", "127.0.0.1:30001"] } };
    runtime.add("e1");
    runtime.add("e2");
    const rec = await start();
    await rec.reconcile(SVC);
    await until("both in the engine", () => [...repo.rows.values()].filter((r) => r.state === "ready" && r.inEngine).length === 2);
    expect(idsOf(actions, "health").sort()).toEqual(["e1", "e2"]);
    expect(idsOf(actions, "engine.add").sort()).toEqual(["e1", "e2"]);
    // the list loses one: drained, out of the engine, the row gone; nothing stopped, removed or replaced
    runtime.running.delete("e1");
    await rec.reconcile(SVC);
    await until("e1 gone", () => !repo.rows.has("e1"));
    await rec.reconcile(SVC);
    await until("settled", () => !rec.tasks.isBusy("e1"));
    expect(idsOf(actions, "engine.drain")).toEqual(["e1"]);
    expect(idsOf(actions, "engine.remove")).toEqual(["e1"]);
    expect(idsOf(actions, "create")).toEqual([]);
    expect(idsOf(actions, "stop")).toEqual([]);
    expect(idsOf(actions, "remove")).toEqual([]);
    expect(repo.kinds()).toContain("replica.released");
  });

  it("a listed instance that stays down: replica.failed once, not at every retry; back up: one 'recovered' event", async () => {
    const down = new Set(["e1"]);
    const { actions, repo, runtime, start } = await setup({ desired: 0, down });
    repo.svc = { ...repo.svc!, source: { kind: "external", endpoints: ["127.0.0.1:30000"] } };
    runtime.add("e1");
    const rec = await start();
    const attempts = () => idsOf(actions, "health").filter((id) => id === "e1").length;
    // the first bring-up and two retries (backoff 1 s, then 2 s), each failing its health check
    await until("three failed health checks", () => {
      if (!rec.tasks.isBusy("e1")) void rec.reconcile(SVC);
      return attempts() >= 3 && !rec.tasks.isBusy("e1");
    }, 15_000);
    const failed = repo.events.filter((e) => e.kind === "replica.failed");
    expect(failed).toHaveLength(1);
    expect(repo.rows.get("e1")).toMatchObject({ state: "failed", inEngine: false });
    expect(repo.rows.get("e1")?.lastError).toContain("connection refused");
    down.delete("e1"); // it answers again
    await until("e1 back in rotation", () => {
      if (!rec.tasks.isBusy("e1")) void rec.reconcile(SVC);
      return repo.rows.get("e1")?.state === "ready";
    }, 15_000);
    expect(repo.rows.get("e1")).toMatchObject({ inEngine: true, lastError: null });
    const ready = repo.events.filter((e) => e.kind === "replica.ready" && e.replicaId === "e1");
    expect(ready.map((e) => e.message)).toEqual([expect.stringContaining("recovered")]);
    expect(repo.events.filter((e) => e.kind === "replica.failed")).toHaveLength(1);
  }, 40_000);
});
