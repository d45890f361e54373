/**
 * The panel's listener in front of a cluster service's own balancer (lib/runtime/cluster-front.ts):
 * ClusterSync learns where that balancer answers and re-applies the engine only when it is new
 * or moved; the panel's engine serves a swarm service with that one server, its routes kept and
 * the rules that belong to the Swarm balancer (stickiness, slow start, passive checks) stripped.
 */
import { describe, expect, it } from "vitest";
import { ClusterSync } from "@/lib/controller/cluster-sync";
import type { ControllerRepository, ServiceRecord } from "@/lib/controller/repository";
import type { ClusterBalancer, ClusterRuntime } from "@/lib/runtime/cluster";
import type { ClusterFront } from "@/lib/runtime/cluster-front";
import { clusterFronts, FRONT_SERVER_NAME } from "@/lib/runtime/cluster-front";
import { toBalancerService } from "@/lib/db/balancer-config";
import { defaultRules, rulesSchema } from "@/lib/core/rules";
import type { NewEvent } from "@/lib/events";

const SVC: ServiceRecord = { id: "svc1", name: "shop", desired: 2, runtime: "swarm" };

function setup(host: () => string | null) {
  const events: NewEvent[] = [];
  const repo = {
    replicaSpec: async () => ({ serviceId: SVC.id, serviceName: SVC.name, replicaId: "x", env: {}, dataPort: 8080, adminPort: 9090, adminToken: "t", memoryLimitMb: 128, cpuLimit: null }),
    rules: async () => defaultRules(),
    replicas: async () => [],
    recordEvent: async (e: NewEvent) => void events.push(e),
  } as unknown as ControllerRepository;
  const cluster = {
    kind: "swarm",
    ensureService: async () => ({ id: "s", name: "sy-shop", created: false }),
    status: async () => ({ desired: 2 }),
    members: async () => [],
  } as unknown as ClusterRuntime;
  const balancer: ClusterBalancer = { ensure: async () => ({ host: host(), dataPort: 18692, adminPort: 18693, created: false, updated: false }) };
  const fronts = new Map<string, ClusterFront>();
  let applies = 0;
  let failNext = false;
  const sync = new ClusterSync({
    repo,
    clusterFor: () => cluster,
    balancerFor: () => balancer,
    fronts,
    applyEngine: async () => {
      applies++;
      if (failNext) {
        failNext = false;
        throw new Error("haproxy -c refused it");
      }
    },
  });
  return { sync, fronts, events, applies: () => applies, failOnce: () => (failNext = true) };
}

describe("ClusterSync: the panel's listener follows the cluster balancer's address", () => {
  it("applies the engine when the address is learned or moves, not on every reconcile; says so in an event", async () => {
    let host: string | null = null;
    const t = setup(() => host);
    await t.sync.reconcile(SVC);
    expect(t.fronts.size).toBe(0); // the balancer's task is not running yet: nothing to forward to
    host = "10.215.20.11";
    await t.sync.reconcile(SVC);
    await t.sync.reconcile(SVC);
    expect(t.fronts.get(SVC.id)).toEqual({ host: "10.215.20.11", port: 18692 });
    expect(t.applies()).toBe(1);
    host = "10.215.20.12";
    await t.sync.reconcile(SVC);
    expect(t.applies()).toBe(2);
    const messages = t.events.filter((e) => e.kind === "rules.applied").map((e) => e.message);
    expect(messages).toEqual([
      "the panel's listener forwards shop to its swarm balancer at 10.215.20.11:18692, which balances across the tasks",
      "the panel's listener forwards shop to its swarm balancer at 10.215.20.12:18692 (was 10.215.20.11:18692), which balances across the tasks",
    ]);
  });

  it("a failed apply keeps the address it had, and the next reconcile tries again", async () => {
    const t = setup(() => "10.215.20.11");
    t.failOnce();
    await expect(t.sync.reconcile(SVC)).rejects.toThrow(/haproxy -c refused it/);
    expect(t.fronts.has(SVC.id)).toBe(false);
    await t.sync.reconcile(SVC);
    expect(t.fronts.get(SVC.id)?.host).toBe("10.215.20.11");
    expect(t.applies()).toBe(2);
  });
});

describe("the panel's engine serves a swarm service with one server, its Swarm balancer", () => {
  const rules = rulesSchema.parse({ sticky: { mode: "cookie", cookieName: "SHOP" }, slowStartMs: 3000, passive: { maxFails: 4 }, routes: [{ hosts: ["shop.local"], path: "/api", stripPrefix: true }] });
  const row = { id: "svc9", name: "shop", rules: JSON.stringify(rules), runtime: "swarm", instances: [{ id: "s1tabc", dataAddr: "10.0.1.5:8080", weight: 100, adminState: "ready", inEngine: false, state: "ready" }] };

  it("no server until the address is known, then that address alone (never the tasks' overlay addresses)", () => {
    clusterFronts().delete("svc9");
    expect(toBalancerService(row).servers).toEqual([]);
    clusterFronts().set("svc9", { host: "10.215.20.11", port: 18692 });
    const svc = toBalancerService(row);
    expect(svc.servers).toEqual([{ replicaId: FRONT_SERVER_NAME, name: FRONT_SERVER_NAME, host: "10.215.20.11", port: 18692, weight: 1, adminState: "ready" }]);
    // routes are the panel's listener's; stickiness, slow start and passive checks are the Swarm balancer's
    expect(svc.rules.routes).toEqual(rules.routes);
    expect(svc.rules.sticky.mode).toBe("none");
    expect(svc.rules.slowStartMs).toBe(0);
    expect(svc.rules.passive.maxFails).toBe(0);
    clusterFronts().delete("svc9");
  });
});
