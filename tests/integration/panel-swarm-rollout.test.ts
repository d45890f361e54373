/**
 * A swarm service's image/command change through the panel is Swarm's rolling update, followed
 * as a rollout (issue 17; lib/core/swarm-rollout.ts, lib/rollout/runner.ts): on a real 3-node
 * bed (scripts/swarm-bed.sh), through the API route handlers with a real SQLite database and
 * the rollout runner, light load through the Swarm balancer the whole time.
 * - a new image completes: every task Swarm runs is on it, the rollout is promoted, the
 *   service's image is the new one;
 * - Rollback from the panel: Swarm's rollback to the previous spec, reported as rolled back by the person;
 * - a command that exits: Swarm rolls the update back itself, and the panel says "rolled back
 *   by Swarm" with Swarm's message (never promoted), the service's command unchanged.
 *
 * Its own bed (namespaces syr<pid>, 10.214.20-219.0/24), panel listener 127.0.0.1:18680, Swarm
 * balancer ports 18682-18685, PORT_RANGE 18686-18689 (no replica uses it) (docs/TESTING.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import os from "node:os";
import path from "node:path";
import { mkdtempSync } from "node:fs";
import { hasBinary, needs } from "../helpers/requirements";
import { waitFor } from "../helpers/load";
import { runCommand } from "../helpers/docker-cli";
import type { ControllerHarness } from "../helpers/controller-harness";
import { startSwarmLoad, swarmBed, type SwarmLoad } from "../helpers/swarm-bed";
import type { RolloutView } from "@/lib/core/rollout";

const IMAGE = "switchyard/replica:swarm-bed";
/** the same app under another tag: a new image for Swarm (its spec's Image changes) */
const IMAGE_V2 = "switchyard/replica:swarm-roll-v2";
const LB_IMAGE = "switchyard/haproxy-bed:local";
const LISTEN = 18680;
const LB_PORT = 18682; // the first pair of SWARM_BALANCER_PORTS: traffic, then the management listener
const BED_NAME = `syr${process.pid}`.slice(0, 8);
const BED_NET = `10.214.${20 + (process.pid % 200)}`;
const BED_DIR = mkdtempSync(path.join(os.tmpdir(), "syrbed-"));
const NAME = `pr${process.pid.toString(36).slice(-4)}`;
const SWARM_RULES = { retries: { count: 3, redispatch: true } };
const EXITS = ["/usr/bin/node", "-e", "process.exit(3)"];

const bed = swarmBed({ name: BED_NAME, net: BED_NET, dir: BED_DIR, images: [IMAGE, IMAGE_V2, LB_IMAGE] });

const missing = (() => {
  if (process.getuid?.() !== 0) return "root (network namespaces and dockerd)";
  return hasBinary("dockerd", ["--version"]) ?? hasBinary("nsenter", ["--version"]) ?? hasBinary("ip", ["-V"]) ?? hasBinary("haproxy", ["-v"]);
})();

describe.skipIf(needs("a 3-node swarm bed (scripts/swarm-bed.sh)", missing))("a swarm service's rolling update through the panel's rollouts", () => {
  let h: ControllerHarness;
  let manager = "";
  let managerAddr = "";
  let serviceId = "";
  let routes: {
    services: typeof import("@/app/api/services/route");
    service: typeof import("@/app/api/services/[id]/route");
    rollouts: typeof import("@/app/api/services/[id]/rollouts/route");
    action: typeof import("@/app/api/services/[id]/rollouts/[rolloutId]/[action]/route");
  };

  const patch = async (body: Record<string, unknown>) => {
    const res = await h.api(routes.service.PATCH, `/api/services/${serviceId}`, { method: "PATCH", body }, { id: serviceId });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const newest = async (): Promise<RolloutView> => {
    const res = await h.api(routes.rollouts.GET, `/api/services/${serviceId}/rollouts`, {}, { id: serviceId });
    expect(res.status).toBe(200);
    const [v] = ((await res.json()) as { rollouts: RolloutView[] }).rollouts;
    expect(v).toBeDefined();
    return v;
  };
  const ended = (label: string, timeoutMs: number) =>
    waitFor(label, async () => {
      const v = await newest();
      return ["promoted", "rolled_back", "aborted"].includes(v.state) ? v : null;
    }, timeoutMs, 500);
  /** What Swarm runs, from the docker CLI against the manager (not the panel's code): image and args per running task. */
  const running = async () => {
    const ps = await runCommand("docker", ["-H", manager, "service", "ps", `sy-${NAME}`, "--filter", "desired-state=running", "--format", "{{.Image}} {{.CurrentState}}"], 30_000);
    expect(ps.ok, ps.out).toBe(true);
    const spec = await runCommand("docker", ["-H", manager, "service", "inspect", `sy-${NAME}`, "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Args}}"], 30_000);
    expect(spec.ok, spec.out).toBe(true);
    return { tasks: ps.out.trim().split("\n").filter(Boolean), args: spec.out.trim() };
  };
  const events = async () => (await h.m.db().event.findMany({ where: { serviceId, kind: { startsWith: "rollout." } }, orderBy: { id: "asc" } })).map((e) => `${e.kind}: ${e.message}`);
  const withLoad = async <T,>(label: string, body: () => Promise<T>): Promise<{ value: T; load: SwarmLoad }> => {
    const l = startSwarmLoad(managerAddr, LB_PORT, 2, 180_000);
    try {
      const value = await body();
      const load = await l.stop();
      console.log(`[panel-swarm-rollout] ${label}: ${load.ok} answered, ${load.failed} failed${load.failed ? ` (${[...new Set(load.errors)].slice(0, 4).join("; ")})` : ""}`);
      return { value, load };
    } catch (e) {
      await l.stop();
      throw e;
    }
  };

  beforeAll(async () => {
    // the replica image under a second tag (built first so the tag names it), loaded into every node with the others
    const built = await runCommand("bash", [path.resolve(__dirname, "../../scripts/build-replica-image.sh"), IMAGE], 300_000);
    if (!built.ok) throw new Error(`replica image: ${built.out}`);
    const tagged = await runCommand("docker", ["tag", IMAGE, IMAGE_V2]);
    if (!tagged.ok) throw new Error(`docker tag: ${tagged.out}`);
    ({ manager, managerAddr, h } = await bed.upWithPanel(IMAGE, { listen: LISTEN, portRange: "18686-18689", network: `sy-pr-${process.pid}`, balancerPorts: "18682-18685", balancerImage: LB_IMAGE }));
    routes = {
      services: await import("@/app/api/services/route"),
      service: await import("@/app/api/services/[id]/route"),
      rollouts: await import("@/app/api/services/[id]/rollouts/route"),
      action: await import("@/app/api/services/[id]/rollouts/[rolloutId]/[action]/route"),
    };
    const { forget } = await import("@/lib/remember");
    forget("rollout-runner");
    (await import("@/lib/rollout/runner")).rolloutRunner().start();

    const res = await h.api(routes.services.POST, "/api/services", { method: "POST", body: { name: NAME, runtime: "swarm", image: IMAGE, replicaProtocol: true, replicas: 3, dataPort: 8080, adminPort: 9090, memoryLimitMb: 128, rules: SWARM_RULES } });
    const json = (await res.json()) as { service?: { id: string }; id?: string };
    expect(res.status, JSON.stringify(json)).toBe(201);
    serviceId = json.service?.id ?? json.id ?? "";
    await waitFor("3 ready rows", async () => (await h.m.getService(serviceId)).instances.filter((r) => r.state === "ready").length === 3, 90_000, 250);
    await waitFor(`the Swarm balancer at ${managerAddr}:${LB_PORT} answering`, async () => {
      const l = startSwarmLoad(managerAddr, LB_PORT, 1, 2000);
      await new Promise((r) => setTimeout(r, 300));
      return (await l.stop()).ok > 0;
    }, 60_000, 250);
  }, 500_000);

  afterAll(async () => {
    const { forget } = await import("@/lib/remember");
    (await import("@/lib/rollout/runner")).rolloutRunner().stop();
    forget("rollout-runner");
    if (h && serviceId) await h.m.controller().stopServiceReplicas({ id: serviceId, name: NAME, runtime: "swarm" }).catch(() => undefined);
    await h?.close();
    for (const k of ["runtime-swarm", "runtime-swarm-adapter", "cluster-swarm", "cluster-swarm-balancer"]) forget(k);
    const down = await bed.run("down");
    if (!down.ok) console.warn(`swarm-bed down: ${down.out}`);
  }, 120_000);

  it("a new image: Swarm's update completes, every task runs it, the rollout is promoted", async () => {
    const t0 = Date.now();
    const { value: v } = await withLoad("image update", async () => {
      await patch({ image: IMAGE_V2 });
      // nothing changed in the row yet: Swarm runs the update, the rollout follows it
      expect((await h.m.db().service.findUniqueOrThrow({ where: { id: serviceId } })).image).toBe(IMAGE);
      const started = await newest();
      expect(started.strategy).toBe("rolling");
      expect(started.swarm).not.toBeNull();
      return ended("the image rollout ended", 150_000);
    });
    console.log(`[panel-swarm-rollout] image update ${v.state} after ${Date.now() - t0} ms: Swarm ${v.swarm?.updateState}, ${v.swarm?.newTasks} new / ${v.swarm?.oldTasks} old tasks; ${v.reason}`);
    expect(v.state, v.reason ?? "").toBe("promoted");
    expect(v.swarm?.updateState).toBe("completed");
    expect((await h.m.db().service.findUniqueOrThrow({ where: { id: serviceId } })).image).toBe(IMAGE_V2);
    const { tasks } = await waitFor("3 running tasks, all on the new image", async () => {
      const r = await running();
      return r.tasks.length === 3 && r.tasks.every((t) => t.startsWith(`${IMAGE_V2} Running`)) ? r : null;
    }, 60_000, 500);
    console.log(`[panel-swarm-rollout] tasks: ${tasks.join(" | ")}`);
    const ev = await events();
    expect(ev.some((e) => e.startsWith("rollout.started:") && e.includes("Swarm's rolling update"))).toBe(true);
    expect(ev.some((e) => e.startsWith("rollout.promoted:") && e.includes("completed by Swarm"))).toBe(true);
  }, 240_000);

  it("Rollback from the panel: Swarm's rollback to the previous spec, reported as rolled back by the person", async () => {
    const done = await newest();
    expect(done.state).toBe("promoted");
    const t0 = Date.now();
    const { value: v } = await withLoad("Rollback pressed", async () => {
      const res = await h.api(routes.action.POST, `/api/services/${serviceId}/rollouts/${done.id}/rollback`, { method: "POST" }, { id: serviceId, rolloutId: done.id, action: "rollback" });
      expect(res.status, await res.clone().text()).toBe(200);
      return ended("the rollback ended", 150_000);
    });
    console.log(`[panel-swarm-rollout] Rollback ${v.state} after ${Date.now() - t0} ms: Swarm ${v.swarm?.updateState}; ${v.reason}`);
    expect(v.id).toBe(done.id);
    expect(v.state).toBe("rolled_back");
    expect(v.swarm?.updateState).toBe("rollback_completed");
    expect(v.reason).toMatch(/^rolled back by harness-admin: Swarm.s rollback to the previous spec/);
    expect((await h.m.db().service.findUniqueOrThrow({ where: { id: serviceId } })).image).toBe(IMAGE);
    await waitFor("every running task back on the first image", async () => {
      const r = await running();
      return r.tasks.length >= 3 && r.tasks.every((t) => t.startsWith(`${IMAGE} Running`)) ? r : null;
    }, 60_000, 500);
  }, 240_000);

  it("a command that exits: Swarm rolls the update back, and the panel says so (never promoted)", async () => {
    const t0 = Date.now();
    const { value: v } = await withLoad("failing update", async () => {
      await patch({ command: EXITS });
      return ended("the failing rollout ended", 150_000);
    });
    console.log(`[panel-swarm-rollout] failing update ${v.state} after ${Date.now() - t0} ms: Swarm ${v.swarm?.updateState}, ${v.swarm?.failedTasks} failed task(s); ${v.reason}`);
    expect(v.state).toBe("rolled_back");
    expect(v.swarm?.updateState).toBe("rollback_completed");
    expect(v.reason).toMatch(/^rolled back by Swarm/);
    expect(v.swarm?.failedTasks).toBeGreaterThanOrEqual(1);
    expect((await h.m.db().service.findUniqueOrThrow({ where: { id: serviceId } })).command).toBeNull();
    const r = await waitFor("the spec without the exiting command, its tasks running", async () => {
      const x = await running();
      return x.args === "null" && x.tasks.length >= 3 && x.tasks.every((t) => t.includes(" Running")) ? x : null;
    }, 60_000, 500);
    console.log(`[panel-swarm-rollout] after Swarm's rollback: args ${r.args}, tasks ${r.tasks.join(" | ")}`);
    const ev = await events();
    expect(ev.some((e) => e.startsWith("rollout.rolled-back:") && e.includes("rolled back by Swarm"))).toBe(true);
    expect(ev.filter((e) => e.startsWith("rollout.promoted:")).length).toBe(1); // the first rollout's only
  }, 240_000);
});
