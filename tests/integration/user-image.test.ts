/**
 * Issue 14, item 4 with an image: the user's app (tests/fixtures/user-app) in a plain
 * image of its own (build-image.sh: node and server.mjs, nothing of the replica app), run
 * as a Docker service behind HAProxy with its health path /api/health and expected status
 * 200. Its own Stress on container 1 (straight to the container's own port) takes it out
 * of rotation, 10 of 10 requests reach container 2, its Clear brings it back.
 *
 * Listener 18459, container ports 28590-28597 (docs/TESTING.md).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { hasBinary, needs } from "../helpers/requirements";
import { runCommand, whyNoDocker } from "../helpers/docker-cli";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { until } from "../helpers/load";
import { throughToUserApp } from "../helpers/user-app-request";

const ROOT = path.resolve(__dirname, "../..");
const LISTEN = 18459;

const run = runCommand;

/** The port that answered, from the app's own body ({"by": "host:port"}). */
const through = (method = "GET", urlPath = "/", body?: string) => throughToUserApp(LISTEN, method, urlPath, body);

describe.skipIf(needs("haproxy", hasBinary("haproxy")) || needs("a Docker engine", await whyNoDocker()))("a user's own image on Docker: its Stress and Clear per container", () => {
  let h: ControllerHarness;
  let actions: typeof import("@/app/api/replicas/[id]/actions/route");

  beforeAll(async () => {
    const built = await run(path.join(ROOT, "tests/fixtures/user-app/build-image.sh"), []);
    expect(built.ok, built.out).toBe(true);
    h = await startControllerHarness({
      engine: "haproxy",
      listen: LISTEN,
      portRange: "28590-28597",
      service: {
        name: "todoimg",
        runtime: "docker",
        image: built.out,
        replicas: 2,
        env: { TODO_GREETING: "hello" },
        actions: [
          { name: "Stress", method: "POST", path: "/api/stress", port: "data" },
          { name: "Clear", method: "POST", path: "/api/stress/clear", port: "data" },
        ],
        rules: rulesSchema.parse({ healthCheck: { path: "/api/health", expectStatus: 200, intervalMs: 300, fall: 2, rise: 2 } }),
      },
    });
    actions = await import("@/app/api/replicas/[id]/actions/route");
  }, 180_000);

  afterAll(async () => {
    if (!h) return;
    // the controller first, so it replaces none of the containers removed below
    (await import("@/lib/controller/prober")).prober().stop();
    await h.m.controller().stop();
    const { runtimeFor } = await import("@/lib/runtime/registry");
    const docker = runtimeFor("docker");
    for (const c of (await docker.list().catch(() => [])).filter((x) => x.serviceId === h.serviceId)) {
      await docker.stop(c.runtimeRef, 2000).catch(() => undefined);
      await docker.remove(c.runtimeRef).catch(() => undefined);
    }
    await h.close();
  }, 60_000);

  const press = async (replicaId: string, name: string) => {
    const res = await h.api(actions.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body: { action: "custom", name } }, { id: replicaId });
    return { status: res.status, json: (await res.json()) as { result?: { status: number; body: string } } };
  };

  it("Stress on container 1 isolates it, 10 of 10 reach container 2, a write succeeds, Clear brings it back", async () => {
    const [one, two] = await h.ready();
    const port1 = one.dataAddr!.split(":")[1];
    const port2 = two.dataAddr!.split(":")[1];
    const stressedAt = Date.now();
    const stress = await press(one.id, "Stress");
    expect(stress.status, JSON.stringify(stress.json)).toBe(200);
    expect(stress.json.result?.body).toContain(`"port":${port1}`);
    const ten = await until("10 of 10 requests reach container 2", async () => {
      const hits = [];
      for (let i = 0; i < 10; i++) hits.push(await through());
      return hits;
    }, (hits) => hits.every((x) => x.status === 200 && x.port === port2), 15_000, 100);
    const leftMs = Date.now() - stressedAt;
    expect(ten).toHaveLength(10);
    const write = await through("POST", "/api/todos", "buy milk");
    expect(write).toEqual({ status: 201, port: port2 });
    const clearedAt = Date.now();
    const clear = await press(one.id, "Clear");
    expect(clear.json.result?.body).toContain('"stressed":false');
    await until("container 1 answers through HAProxy again", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) seen.add((await through()).port);
      return seen;
    }, (seen) => seen.has(port1), 15_000, 100);
    console.log(`[user-image] Stress on container ${one.runtimeRef?.slice(0, 12)}: out of rotation after ${leftMs} ms; 10 of 10 to container 2; write HTTP ${write.status}; Clear: back after ${Date.now() - clearedAt} ms`);
  }, 90_000);
});
