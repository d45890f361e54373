/**
 * Issue 14, item 2 on a process replica of a user's own app (tests/fixtures/user-app, it
 * knows nothing of the replica protocol) behind a real HAProxy, through the real route
 * handler: pause → HAProxy routes around it (0 failed requests once its checks saw it),
 * resume brings it back; runtime stress shows in the replica's own memory and CPU
 * figures (the runtime's stats, what the charts draw) and is undone by Clear and by its
 * time limit; faults survive a panel restart (the controller and the fault store stopped
 * and made anew): one whose time ran out meanwhile is undone at start, one still running
 * is found again and undone by Clear; kill with SIGKILL → the replica is replaced.
 *
 * Listener 18470, replicas 29000-29049 (docs/TESTING.md).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { forget } from "@/lib/remember";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { until, waitFor } from "../helpers/load";
import { readableCopy } from "../helpers/readable-copy";
import { act, burst, engineHealth, faultRows } from "../helpers/faults";

const APP = path.resolve(__dirname, "../fixtures/user-app/server.mjs");
const LISTEN = 18470;
const MB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;

describe.skipIf(needs("haproxy", hasBinary("haproxy")) || needs("stress-ng", hasBinary("stress-ng", ["--version"])))("faults on a process replica of a user's own app (HAProxy)", () => {
  let h: ControllerHarness;
  let route: typeof import("@/app/api/replicas/[id]/actions/route");
  let rt: typeof import("@/lib/runtime/registry") extends { runtimeFor: infer F } ? F extends (...a: never[]) => infer R ? R : never : never;

  beforeAll(async () => {
    const app = await readableCopy(APP);
    h = await startControllerHarness({
      engine: "haproxy",
      listen: LISTEN,
      portRange: "29000-29049",
      service: {
        name: "todo",
        command: [process.execPath, app],
        replicas: 2,
        memoryLimitMb: 256,
        rules: rulesSchema.parse({ healthCheck: { path: "/api/health", expectStatus: 200, intervalMs: 300, fall: 2, rise: 2 } }),
      },
    });
    route = await import("@/app/api/replicas/[id]/actions/route");
    rt = (await import("@/lib/runtime/registry")).runtimeFor("process");
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  }, 60_000);

  it("a user's command does not speak the replica protocol; pause: HAProxy routes around it with 0 failed requests, resume brings it back", async () => {
    expect((await h.m.getService(h.serviceId)).replicaProtocol).toBe(false);
    const [one, two] = await h.ready();
    const port2 = two.dataAddr!.split(":")[1];
    const paused = await act(h, route, one.id, { action: "pause" });
    expect(paused.status, JSON.stringify(paused.json)).toBe(200);
    expect(paused.json.result?.message).toMatch(/^pause for 300 s/);
    expect(await rt.isPaused!(one.runtimeRef!)).toBe(true);
    const t0 = Date.now();
    await until("HAProxy marks the paused replica down", () => engineHealth(h, one.id), (s) => s === "down", 15_000, 100);
    const detectedMs = Date.now() - t0;
    const during = await burst(LISTEN, 20);
    expect(during.failed).toBe(0);
    expect(new Set(during.ports)).toEqual(new Set([port2]));
    // the card's view lists it with its time limit
    const view = (await h.m.getService(h.serviceId)).instances.find((r) => r.id === one.id)!;
    expect(view.faults?.map((f) => f.kind)).toEqual(["pause"]);

    const resumed = await act(h, route, one.id, { action: "resume" });
    expect(resumed.status, JSON.stringify(resumed.json)).toBe(200);
    expect(await rt.isPaused!(one.runtimeRef!)).toBe(false);
    await until("HAProxy has it up again", () => engineHealth(h, one.id), (s) => s === "up", 15_000, 100);
    const after = await until("both instances answer again", () => burst(LISTEN, 10), (b) => b.failed === 0 && new Set(b.ports).size === 2, 15_000, 100);
    expect(after.failed).toBe(0);
    const rows = await faultRows(h, one.id);
    expect(rows.map((r) => [r.kind, r.endReason])).toEqual([["pause", "resumed by harness-admin"]]);
    console.log(`[faults-process] paused replica marked down after ${detectedMs} ms; 20 of 20 requests reached the other one`);
  }, 60_000);

  it("runtime stress counts in the replica's own memory and CPU figures; Clear undoes it, and so does its time limit", async () => {
    const [one] = await h.ready();
    const ref = one.runtimeRef!;
    if (!isRoot) {
      // a panel that is not root has no replica cgroups on this machine: refused with the reason, not pretended
      const refused = await act(h, route, one.id, { action: "runtime-stress", memoryMb: 64, seconds: 30 });
      expect(refused.status).toBe(409);
      expect(refused.json.error?.message).toMatch(/cgroup/);
      return;
    }
    const before = (await rt.stats(ref))!.memoryBytes;
    const stressed = await act(h, route, one.id, { action: "runtime-stress", cpus: 1, memoryMb: 64, seconds: 60 });
    expect(stressed.status, JSON.stringify(stressed.json)).toBe(200);
    expect(stressed.json.result?.message).toMatch(/^runtime stress \(1 CPU, 64 MB memory\) for 60 s/);
    const [row] = (await faultRows(h, one.id)).filter((r) => !r.endedAt);
    const stressor = (JSON.parse(row.state) as { changed: { pid: number; cgroups: string[] } }).changed;
    expect(stressor.cgroups.some((d) => d.endsWith(`/switchyard-replicas/${one.id}`))).toBe(true);
    // polled once a second (the collector samples too: CPU is measured between any two calls); an idle
    // replica reads 0-1 %, a worker at full load at least a few % even on a machine far over its cores
    const seen = await until("the replica's own figures include the stressor", () => rt.stats(ref), (s) => s !== null && s.memoryBytes >= before + 50 * MB && s.cpuPercent >= 5, 30_000, 1000);
    console.log(`[faults-process] replica memory ${Math.round(before / MB)} MB -> ${Math.round(seen!.memoryBytes / MB)} MB, CPU ${Math.round(seen!.cpuPercent)} % under stress`);

    const cleared = await act(h, route, one.id, { action: "clear" });
    expect(cleared.status, JSON.stringify(cleared.json)).toBe(200);
    expect(cleared.json.result?.message).toBe("undid runtime-stress");
    expect(() => process.kill(stressor.pid, 0)).toThrow();
    await until("the figures drop back", () => rt.stats(ref), (s) => s !== null && s.memoryBytes < before + 20 * MB, 10_000, 200);
    // Clear again: nothing left, nothing fails
    expect((await act(h, route, one.id, { action: "clear" })).json.result?.message).toBe("no active faults");

    // its time limit
    const short = await act(h, route, one.id, { action: "runtime-stress", memoryMb: 16, seconds: 2 });
    expect(short.status, JSON.stringify(short.json)).toBe(200);
    const ended = await until("the stress ends at its time limit", async () => (await faultRows(h, one.id)).at(-1)!, (r) => r.endedAt !== null, 10_000, 100);
    expect(ended.endReason).toBe("expired");
    const pid = (JSON.parse(ended.state) as { changed: { pid: number } }).changed.pid;
    await waitFor("the stressor gone", () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 5000);
  }, 60_000);

  it("faults survive a panel restart: expired while it was down → undone at start; still running → found again, undone by Clear", async () => {
    const [one, two] = await h.ready();
    const pause = await act(h, route, one.id, { action: "pause", seconds: 2 });
    expect(pause.status, JSON.stringify(pause.json)).toBe(200);
    const stress = isRoot ? await act(h, route, two.id, { action: "runtime-stress", memoryMb: 16, seconds: 120 }) : null;
    if (stress) expect(stress.status, JSON.stringify(stress.json)).toBe(200);

    // the panel goes away: its controller and fault store stop, a new process would make new ones
    (await import("@/lib/controller/prober")).prober().stop();
    await h.m.controller().stop();
    forget("controller");
    forget("fault-store");
    const expiresAt = Date.parse(String((pause.json.result as { fault: { expiresAt: string } }).fault.expiresAt));
    await until("the pause's time runs out while the panel is down", () => Date.now(), (t) => t > expiresAt + 300, 10_000, 100);
    expect(await rt.isPaused!(one.runtimeRef!)).toBe(true); // nobody undid it meanwhile

    await h.m.controller().start();
    expect(await rt.isPaused!(one.runtimeRef!)).toBe(false);
    const pauseRow = (await faultRows(h, one.id)).at(-1)!;
    expect([pauseRow.kind, pauseRow.endReason]).toEqual(["pause", "expired"]);
    if (!stress) return;
    const stressRow = (await faultRows(h, two.id)).at(-1)!;
    expect(stressRow.endedAt).toBeNull();
    const resumedEvent = await h.m.db().event.findFirst({ where: { kind: "fault.resumed", replicaId: two.id } });
    expect(resumedEvent?.message).toMatch(/held again after the panel restarted/);
    const pid = (JSON.parse(stressRow.state) as { changed: { pid: number } }).changed.pid;
    expect(() => process.kill(pid, 0)).not.toThrow(); // adopted, not started again
    const cleared = await act(h, route, two.id, { action: "clear" });
    expect(cleared.json.result?.message).toBe("undid runtime-stress");
    expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);

  it("kill with SIGKILL: the replica dies and the controller replaces it; a signal not on the list is refused", async () => {
    const [one] = await h.ready();
    const killed = await act(h, route, one.id, { action: "kill", signal: "SIGKILL" });
    expect(killed.status, JSON.stringify(killed.json)).toBe(200);
    expect(killed.json.result?.message).toMatch(/^sent SIGKILL/);
    const replaced = await until("a replacement in rotation", () => h.ready(), (rs) => rs.length === 2 && !rs.some((r) => r.id === one.id), 30_000, 200);
    expect(replaced).toHaveLength(2);
    const audit = await h.m.db().event.findFirst({ where: { kind: "replica.action", replicaId: one.id }, orderBy: { id: "desc" } });
    expect(audit?.message).toMatch(/kill with SIGKILL/);
    expect((await act(h, route, replaced[0].id, { action: "kill", signal: "SIGSTOP" })).status).toBe(400);
  }, 60_000);
});
