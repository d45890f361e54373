/**
 * The panel is a control plane: restarting it must cost the data plane nothing.
 * A real panel (npm start) runs the demo service behind the real engine; under
 * steady keep-alive load the panel is stopped and started again on the same data:
 * 0 failed requests, the engine adopted (same pid, not restarted), the replicas
 * adopted (same pids, no twins).
 */
import { afterAll, describe, expect, it } from "vitest";
import { startPanel, type Panel } from "../helpers/panel";
import { runLoad, waitFor } from "../helpers/load";

const PORT = 3160;
const BALANCER = 18160;
const env = { ADMIN_USER: "admin", ADMIN_PASSWORD: "restart-test-pw", BALANCER_PORT: String(BALANCER), PORT_RANGE: "23600-23699" };

type ReplicaJson = { id: string; state: string; inEngine: boolean; runtimeRef: string };

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
    const before = (await replicas(first)).map((r) => r.runtimeRef).sort();
    const engineBefore = ((await (await first.request("/api/balancer", { cookie })).json()) as { engine: { pid: number; kind: string } }).engine;

    const load = runLoad(BALANCER, { concurrency: 4, durationMs: 25_000, maxRequests: 400_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await first.stop({ keepRunning: true });
    const dataDir = first.dataDir;
    first = null;
    second = await startPanel({ port: PORT, env, dataDir });
    cookie = await second.login("admin", "restart-test-pw");
    await new Promise((r) => setTimeout(r, 4000)); // a few controller resyncs
    const after = (await replicas(second)).map((r) => r.runtimeRef).sort();
    const engineAfter = ((await (await second.request("/api/balancer", { cookie })).json()) as { engine: { pid: number; adopted: boolean } }).engine;
    const result = await load;
    console.log(`[panel restart] ${engineBefore.kind}: ${result.ok} ok, ${result.failed} failed while the panel restarted`, result.errors.slice(0, 3));

    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(1000);
    expect(engineAfter.adopted).toBe(true);
    expect(engineAfter.pid).toBe(engineBefore.pid);
    expect(after).toEqual(before);
  });
});
