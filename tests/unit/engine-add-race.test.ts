/**
 * A bring-up whose engine add fails while an apply runs (issue 11's named race). The
 * controller starts `engine.addServer` under its engine lock and awaits it after the lock
 * (so nginx can batch bring-ups); the replica's row says `inEngine` from the start, so an
 * apply that takes the lock meanwhile builds its configuration with the new server. When
 * the add then fails, the server must not stay in the engine behind the database's back.
 * Against in-memory fakes: an engine whose add is held open and failed by the test, and
 * whose apply can be held while it has its configuration.
 */
import { describe, expect, it } from "vitest";
import { defaultRules } from "@/lib/core/rules";
import type { NewEvent } from "@/lib/events";
import type { BalancerConfig, BalancerServer, BalancerService, EngineStatus, RunningEngine } from "@/lib/engines/types";
import { serverNameFor } from "@/lib/engines/types";
import { toServer } from "@/lib/db/balancer-config";
import { EngineSupervisor } from "@/lib/controller/engine-supervisor";
import { ReplicaTasks } from "@/lib/controller/replica-tasks";
import type { ControllerRepository, NewReplica, ReplicaPatch, ReplicaRecord } from "@/lib/controller/repository";
import type { Runtime } from "@/lib/runtime/types";

const SVC = "svc-1";
const LISTEN = { host: "127.0.0.1", port: 18000 };

/** The rows the bring-up reads and writes, in memory. */
class MemoryRepository implements ControllerRepository {
  readonly rows = new Map<string, ReplicaRecord & { lastError?: string | null }>();
  readonly events: NewEvent[] = [];
  async serviceIds() {
    return [SVC];
  }
  async service(id: string) {
    return id === SVC ? { id: SVC, name: "web", desired: 1, runtime: "process" as const } : null;
  }
  async rules() {
    return defaultRules();
  }
  async replicaSpec() {
    return null;
  }
  async replicas() {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }
  async replica(id: string) {
    const r = this.rows.get(id);
    return r ? { ...r } : null;
  }
  async createReplica(row: NewReplica) {
    this.rows.set(row.id, { id: row.id, serviceId: row.serviceId, state: row.state, adminState: "ready", weight: 100, inEngine: false, runtimeRef: row.runtimeRef ?? null, dataAddr: row.dataAddr ?? null, createdAt: new Date(0) });
  }
  async updateReplica(id: string, patch: ReplicaPatch) {
    const r = this.rows.get(id)!;
    const { health: _h, healthReason: _r, ...kept } = patch;
    Object.assign(r, kept);
    return { ...r };
  }
  async deleteReplica(id: string) {
    this.rows.delete(id);
  }
  async lowerDesiredAndDrain() {}
  async balancerService(serviceId: string): Promise<BalancerService | null> {
    const servers = [...this.rows.values()].filter((r) => r.serviceId === serviceId && r.inEngine).flatMap((r) => toServer(r) ?? []);
    return { id: SVC, name: "web", rules: defaultRules(), servers };
  }
  async balancerConfig(): Promise<BalancerConfig> {
    return { listen: LISTEN, services: [(await this.balancerService(SVC))!] };
  }
  async recordEvent(e: NewEvent) {
    this.events.push(e);
  }
}

/** What a gate holds open until the test lets it go (or fails it). */
function gate() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

/** An engine serving `servers` ("service/server"); its add waits for `add`, its apply (once it has its config) for `applyHeld`. */
function fakeEngine() {
  const servers = new Set<string>();
  const add = gate();
  const applyHeld = gate();
  const calls: string[] = [];
  const status = (): EngineStatus => ({ kind: "builtin", running: true, version: null, mode: "supervised", pid: null, listen: LISTEN, location: "memory", adopted: false });
  const engine = {
    kind: "builtin",
    render: (config: BalancerConfig) => JSON.stringify(config),
    start: async () => undefined,
    status: async () => status(),
    apply: async (_rendered: string, config: BalancerConfig) => {
      calls.push("apply");
      await applyHeld.promise;
      servers.clear();
      for (const s of config.services) for (const srv of s.servers) servers.add(`${s.name}/${srv.name}`);
      return { ok: true as const, reloaded: true };
    },
    addServer: async (service: BalancerService, server: BalancerServer) => {
      calls.push(`add ${server.name}`);
      await add.promise;
      servers.add(`${service.name}/${server.name}`);
    },
    removeServer: async (service: BalancerService, name: string) => {
      calls.push(`remove ${name}`);
      servers.delete(`${service.name}/${name}`);
    },
  };
  return { engine: engine as unknown as RunningEngine, servers, add, applyHeld, calls };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ok(); i++) await tick();
  if (!ok()) throw new Error(`never happened: ${what}`);
}

async function setup() {
  const repo = new MemoryRepository();
  await repo.createReplica({ id: "a", serviceId: SVC, runtime: "process", state: "starting", runtimeRef: "pid-a", dataAddr: "127.0.0.1:30000" });
  const fake = fakeEngine();
  const supervisor = new EngineSupervisor({ engine: () => fake.engine, repo });
  expect(await supervisor.ensureEngine()).toBe(true);
  const tasks = new ReplicaTasks({
    repo,
    runtimeFor: () => ({}) as Runtime,
    engine: supervisor,
    queue: { kick: () => undefined, kickLater: () => undefined, noteFailure: () => undefined, afterTask: () => undefined },
    waitHealthy: async () => ({ ok: true, status: 200, reason: "HTTP 200", body: null }),
    sleep: () => tick(),
  });
  /** An apply as applyBalancerConfig makes one: under the engine lock, the configuration built from the rows. */
  const apply = () => supervisor.lock.run(async () => fake.engine.apply("", await repo.balancerConfig()));
  return { repo, fake, tasks, apply };
}

describe("a failed engine add while an apply runs", () => {
  const server = `web/${serverNameFor("a")}`;

  it("the apply ran first with the new server in: the failed add takes it out again", async () => {
    const { repo, fake, tasks, apply } = await setup();
    const bringUp = tasks.bringUpExisting(SVC, "a");
    await until("the add started", () => fake.calls.includes(`add ${serverNameFor("a")}`));
    fake.applyHeld.open();
    await apply();
    expect(fake.servers.has(server)).toBe(true); // the apply built its config while the row said inEngine
    fake.add.fail(new Error("haproxy: add server refused"));
    await bringUp;
    expect(await repo.replica("a")).toMatchObject({ inEngine: false, state: "failed" });
    expect(fake.servers.has(server)).toBe(false);
    expect(repo.events.map((e) => e.kind)).toContain("replica.failed");
  });

  it("the add failed while an apply held the lock with its config built: the server is out once both are done", async () => {
    const { repo, fake, tasks, apply } = await setup();
    const bringUp = tasks.bringUpExisting(SVC, "a");
    await until("the add started", () => fake.calls.includes(`add ${serverNameFor("a")}`));
    const applying = apply();
    await until("the apply has its config", () => fake.calls.includes("apply"));
    fake.add.fail(new Error("nginx reload failed"));
    await tick();
    fake.applyHeld.open();
    await applying;
    await bringUp;
    expect(await repo.replica("a")).toMatchObject({ inEngine: false, state: "failed" });
    expect(fake.servers.has(server)).toBe(false);
    expect(fake.calls.slice(-1)).toEqual([`remove ${serverNameFor("a")}`]);
  });

  it("a successful add keeps the server in and the row in the engine", async () => {
    const { repo, fake, tasks } = await setup();
    const bringUp = tasks.bringUpExisting(SVC, "a");
    await until("the add started", () => fake.calls.includes(`add ${serverNameFor("a")}`));
    fake.add.open();
    await bringUp;
    expect(await repo.replica("a")).toMatchObject({ inEngine: true, state: "ready" });
    expect(fake.servers.has(server)).toBe(true);
    expect(fake.calls).not.toContain(`remove ${serverNameFor("a")}`);
  });
});
