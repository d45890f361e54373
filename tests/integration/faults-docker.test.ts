/**
 * Issue 14, item 2 on containers of a plain image (tests/fixtures/user-app/build-image.sh:
 * node and the user's app, nothing of the replica protocol) behind a real HAProxy, through
 * the real route handler: pause (docker pause) → HAProxy routes around it with 0 failed
 * requests, Clear unpauses it; runtime stress (stress-ng joined to the container's own
 * cgroups) shows in the container's memory and CPU figures, Clear undoes it; a pause ends
 * at its time limit; a pause held across a panel restart is adopted and Clear undoes it;
 * kill with SIGKILL → the container is replaced.
 *
 * Listener 18471, container ports 29100-29149 (docs/TESTING.md).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { forget } from "@/lib/remember";
import type { Runtime } from "@/lib/runtime/types";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { until } from "../helpers/load";
import { act, burst, engineHealth, faultRows } from "../helpers/faults";
import { runCommand as run, whyNoDocker } from "../helpers/docker-cli";

const ROOT = path.resolve(__dirname, "../..");
const LISTEN = 18471;
const MB = 1024 * 1024;

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe.skipIf(needs("haproxy", hasBinary("haproxy")) || needs("stress-ng", hasBinary("stress-ng", ["--version"])) || needs("a Docker engine", await whyNoDocker()))("faults on containers of a plain image (HAProxy)", () => {
  let h: ControllerHarness;
  let route: typeof import("@/app/api/replicas/[id]/actions/route");
  let docker: Runtime;

  beforeAll(async () => {
    const built = await run(path.join(ROOT, "tests/fixtures/user-app/build-image.sh"), []);
    expect(built.ok, built.out).toBe(true);
    h = await startControllerHarness({
      engine: "haproxy",
      listen: LISTEN,
      portRange: "29100-29149",
      service: {
        name: "todofault",
        runtime: "docker",
        image: built.out,
        replicas: 2,
        memoryLimitMb: 256,
        rules: rulesSchema.parse({ healthCheck: { path: "/api/health", expectStatus: 200, intervalMs: 300, fall: 2, rise: 2 } }),
      },
    });
    route = await import("@/app/api/replicas/[id]/actions/route");
    docker = (await import("@/lib/runtime/registry")).runtimeFor("docker");
  }, 180_000);

  afterAll(async () => {
    if (!h) return;
    // the controller first, so it replaces none of the containers removed below
    (await import("@/lib/controller/prober")).prober().stop();
    await h.m.controller().stop();
    for (const c of (await docker.list().catch(() => [])).filter((x) => x.serviceId === h.serviceId)) {
      await docker.unpause?.(c.runtimeRef).catch(() => undefined);
      await docker.stop(c.runtimeRef, 2000).catch(() => undefined);
      await docker.remove(c.runtimeRef).catch(() => undefined);
    }
    await h.close();
  }, 60_000);

  it("pause: HAProxy routes around the frozen container with 0 failed requests; Clear unpauses it", async () => {
    expect((await h.m.getService(h.serviceId)).replicaProtocol).toBe(false);
    const [one, two] = await h.ready();
    const port2 = two.dataAddr!.split(":")[1];
    const paused = await act(h, route, one.id, { action: "pause" });
    expect(paused.status, JSON.stringify(paused.json)).toBe(200);
    expect(await docker.isPaused!(one.runtimeRef!)).toBe(true);
    await until("HAProxy marks the paused container down", () => engineHealth(h, one.id), (s) => s === "down", 15_000, 100);
    const during = await burst(LISTEN, 20);
    expect(during.failed).toBe(0);
    expect(new Set(during.ports)).toEqual(new Set([port2]));
    // still listed as running: the controller does not replace a paused container
    expect((await docker.inspect(one.runtimeRef!))?.state).toBe("running");

    const cleared = await act(h, route, one.id, { action: "clear" });
    expect(cleared.json.result?.message).toBe("undid pause");
    expect(await docker.isPaused!(one.runtimeRef!)).toBe(false);
    await until("both containers answer again", () => burst(LISTEN, 10), (b) => b.failed === 0 && new Set(b.ports).size === 2, 15_000, 100);
  }, 60_000);

  it("runtime stress counts in the container's own memory and CPU figures; Clear undoes it; a pause ends at its time limit", async () => {
    const [one] = await h.ready();
    const ref = one.runtimeRef!;
    const before = (await until("the container's figures", () => docker.stats(ref), (s) => s !== null, 10_000, 200))!.memoryBytes;
    const stressed = await act(h, route, one.id, { action: "runtime-stress", cpus: 1, memoryMb: 64, seconds: 60 });
    expect(stressed.status, JSON.stringify(stressed.json)).toBe(200);
    const row = (await faultRows(h, one.id)).at(-1)!;
    const stressor = (JSON.parse(row.state) as { changed: { pid: number; cgroups: string[] } }).changed;
    expect(stressor.cgroups.every((d) => d.includes(ref))).toBe(true);
    // polled once a second (the collector samples too: CPU is measured between any two calls); an idle
    // replica reads 0-1 %, a worker at full load at least a few % even on a machine far over its cores
    const seen = await until("the container's own figures include the stressor", () => docker.stats(ref), (s) => s !== null && s.memoryBytes >= before + 50 * MB && s.cpuPercent >= 5, 30_000, 1000);
    console.log(`[faults-docker] container memory ${Math.round(before / MB)} MB -> ${Math.round(seen!.memoryBytes / MB)} MB, CPU ${Math.round(seen!.cpuPercent)} % under stress`);
    const cleared = await act(h, route, one.id, { action: "clear" });
    expect(cleared.json.result?.message).toBe("undid runtime-stress");
    expect(gone(stressor.pid)).toBe(true);
    await until("the figures drop back", () => docker.stats(ref), (s) => s !== null && s.memoryBytes < before + 20 * MB, 10_000, 200);

    const short = await act(h, route, one.id, { action: "pause", seconds: 2 });
    expect(short.status, JSON.stringify(short.json)).toBe(200);
    const ended = await until("the pause ends at its time limit", async () => (await faultRows(h, one.id)).at(-1)!, (r) => r.endedAt !== null, 10_000, 100);
    expect(ended.endReason).toBe("expired");
    expect(await docker.isPaused!(ref)).toBe(false);
  }, 90_000);

  it("a pause held across a panel restart is adopted, and Clear undoes it", async () => {
    const [one] = await h.ready();
    expect((await act(h, route, one.id, { action: "pause", seconds: 120 })).status).toBe(200);
    (await import("@/lib/controller/prober")).prober().stop();
    await h.m.controller().stop();
    forget("controller");
    forget("fault-store");
    await h.m.controller().start();
    expect(await docker.isPaused!(one.runtimeRef!)).toBe(true);
    const resumed = await h.m.db().event.findFirst({ where: { kind: "fault.resumed", replicaId: one.id }, orderBy: { id: "desc" } });
    expect(resumed?.message).toMatch(/^pause on replica .* held again after the panel restarted/);
    expect((await act(h, route, one.id, { action: "clear" })).json.result?.message).toBe("undid pause");
    expect(await docker.isPaused!(one.runtimeRef!)).toBe(false);
  }, 60_000);

  it("kill with SIGKILL: the container dies and the controller replaces it", async () => {
    const [one] = await h.ready();
    const killed = await act(h, route, one.id, { action: "kill", signal: "SIGKILL" });
    expect(killed.status, JSON.stringify(killed.json)).toBe(200);
    const replaced = await until("a replacement in rotation", () => h.ready(), (rs) => rs.length === 2 && !rs.some((r) => r.id === one.id), 60_000, 200);
    expect(replaced).toHaveLength(2);
  }, 90_000);
});
