/**
 * The panel is a control plane: restarting it must cost the data plane nothing.
 * A real panel (npm start) runs the demo service behind the real engine; a keep-alive
 * load runs from before the panel stops until the new panel on the same data has
 * adopted everything and a few of its controller resyncs have passed: 0 failed
 * requests, requests answered while no panel ran and after the new one was up (by
 * every adopted replica), the engine adopted (same pid, not restarted), the replicas
 * adopted (same pids, no twins).
 */
import { afterAll, describe, expect, it } from "vitest";
import { startPanel, type Panel } from "../helpers/panel";
import { countByReplica, startLoad, until, waitFor } from "../helpers/load";

const PORT = 3160;
const BALANCER = 18160;
const env = { ADMIN_USER: "admin", ADMIN_PASSWORD: "restart-test-pw", BALANCER_PORT: String(BALANCER), PORT_RANGE: "23600-23699" };

type ReplicaJson = { id: string; state: string; inEngine: boolean; runtimeRef: string };
type EngineJson = { pid: number; kind: string; adopted: boolean };

/** The controller resyncs every 3 s (lib/controller/controller.ts): watch two of them after the adoption. */
const TWO_RESYNCS_MS = 6500;

describe("panel restart under load", () => {
  let first: Panel | null = null;
  let second: Panel | null = null;

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it("keeps serving with 0 failed requests and adopts the engine and replicas", async () => {
    first = await startPanel({ port: PORT, env });
    let cookie = await first.login("admin", "restart-test-pw");
    const replicas = async (p: Panel) => {
      const list = (await (await p.request("/api/services", { cookie })).json()) as { services: { id: string; instances: ReplicaJson[] }[] };
      return list.services[0]?.instances ?? [];
    };
    await waitFor("the demo service's 3 replicas in rotation", async () => (await replicas(first!)).filter((r) => r.state === "ready" && r.inEngine).length === 3, 60_000, 250);
    const engineOf = async (p: Panel) => ((await (await p.request("/api/balancer", { cookie })).json()) as { engine: EngineJson }).engine;
    const initial = await replicas(first);
    const before = initial.map((r) => r.runtimeRef).sort();
    const ids = initial.map((r) => r.id).sort();
    const engineBefore = await engineOf(first);

    // bounded in time and count; stopped as soon as the new panel has been watched long enough
    const load = startLoad(BALANCER, { concurrency: 4, durationMs: 150_000, maxRequests: 1_500_000 });
    try {
      await waitFor("the load to reach all three replicas", () => ids.every((id) => load.hits.some((h) => h.replica === id)), 10_000);
      await first.stop({ keepRunning: true });
      const stoppedAt = Date.now();
      const dataDir = first.dataDir;
      first = null;
      second = await startPanel({ port: PORT, env, dataDir });
      const upAt = Date.now(); // the new panel answers /api/health
      cookie = await second.login("admin", "restart-test-pw");
      const adopted = await until(
        "the new panel to report the engine and the three replicas adopted",
        async () => ({ engine: await engineOf(second!), replicas: await replicas(second!) }),
        (v) => v.engine.adopted && v.replicas.length === 3 && v.replicas.every((r) => r.state === "ready" && r.inEngine),
        60_000,
        250,
      );
      const adoptedAt = Date.now();
      // the window after the adoption: two controller resyncs, traffic still flowing
      await waitFor("two controller resyncs and 300 requests sent after the adoption", () => Date.now() - adoptedAt >= TWO_RESYNCS_MS && load.hits.filter((h) => h.sentAt > adoptedAt).length >= 300, 60_000, 100);
      const after = (await replicas(second)).map((r) => r.runtimeRef).sort();
      const engineAfter = await engineOf(second);
      const result = await load.stop();
      const noPanel = result.hits.filter((h) => h.sentAt > stoppedAt && h.at < upAt);
      const afterUp = result.hits.filter((h) => h.sentAt > upAt);
      const afterAdoption = result.hits.filter((h) => h.sentAt > adoptedAt);
      console.log(
        `[panel restart] ${engineBefore.kind}: ${result.ok} ok, ${result.failed} failed; ${noPanel.length} answered while no panel ran (${upAt - stoppedAt} ms), ${afterUp.length} sent after the new panel was up, ${afterAdoption.length} after it reported the adoption (${adoptedAt - upAt} ms later)`,
        countByReplica(afterAdoption),
        result.errors.slice(0, 3),
      );

      expect(result.failed).toBe(0);
      expect(result.ok).toBeGreaterThan(1000);
      expect(noPanel.length).toBeGreaterThan(0);
      // traffic flowed across the adoption: sent (and answered) after the new panel was up and had
      // adopted everything, by every adopted replica
      expect(afterAdoption.length).toBeGreaterThanOrEqual(300);
      expect(Object.keys(countByReplica(afterAdoption)).sort()).toEqual(ids);
      expect(adopted.engine.pid).toBe(engineBefore.pid);
      expect(engineAfter.adopted).toBe(true);
      expect(engineAfter.pid).toBe(engineBefore.pid);
      expect(after).toEqual(before);
    } finally {
      await load.stop();
    }
  });
});
