/**
 * Issue 14, item 3: Docker discovery. Containers of the user's app image
 * (tests/fixtures/user-app/build-image.sh), started by this test as compose would label
 * them (com.docker.compose.project=swdisc, .service=api; each on the host's network with
 * its own port, named by switchyard.port), and a service `runtime: "docker", discover:
 * {project, service}` on HAProxy:
 *
 *   both are adopted and balanced (a container of another compose service is not) ->
 *   a third started with the labels joins, from Docker's events -> restart through the
 *   panel restarts the container, it comes back -> one stopped and removed by the test
 *   leaves the pool -> one stopped through the panel leaves it and still exists ->
 *   remove and scaling answer 409 -> deleting the service leaves every container as it
 *   was (the test removes them).
 *
 * Listener 18493, containers 29850-29869 (docs/TESTING.md).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { hasBinary, needs } from "../helpers/requirements";
import { runCommand, whyNoDocker } from "../helpers/docker-cli";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { until, waitFor } from "../helpers/load";
import { throughToUserApp } from "../helpers/user-app-request";

const ROOT = path.resolve(__dirname, "../..");
const LISTEN = 18493;
const PROJECT = "swdisc";
const TEST_LABEL = "switchyard-test.suite=docker-discovery";

const run = runCommand;

const docker = async (...args: string[]) => {
  const r = await run("docker", args, 60_000);
  if (!r.ok) throw new Error(`docker ${args.join(" ")}: ${r.out}`);
  return r.out;
};

/** A container of the compose-style project, as `docker compose up` would label it; its id. */
const startContainer = (image: string, service: string, port: number) =>
  docker(
    "run", "-d", "--init", "--network", "host", "--name", `${PROJECT}-${service}-${port}`,
    "-e", `PORT=${port}`,
    "--label", `com.docker.compose.project=${PROJECT}`, "--label", `com.docker.compose.service=${service}`,
    "--label", `switchyard.port=${port}`, "--label", TEST_LABEL,
    image,
  );

const ports = async (n: number) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await throughToUserApp(LISTEN).catch(() => ({ status: 0, port: "" }));
    if (r.status === 200) seen.add(r.port);
  }
  return seen;
};

const running = async (id: string) => (await run("docker", ["inspect", "-f", "{{.State.Running}}", id])).out === "true";

describe.skipIf(needs("haproxy", hasBinary("haproxy")) || needs("a Docker engine", await whyNoDocker()))("Docker discovery: a compose-style container set adopted, followed and never removed", () => {
  let h: ControllerHarness;
  let image = "";
  const ids: Record<number, string> = {};
  let actions: typeof import("@/app/api/replicas/[id]/actions/route");
  let service: typeof import("@/app/api/services/[id]/route");

  beforeAll(async () => {
    // leftovers of an earlier run that died
    const old = await docker("ps", "-aq", "--filter", `label=${TEST_LABEL}`);
    if (old) await docker("rm", "-f", ...old.split("\n"));
    const built = await run(path.join(ROOT, "tests/fixtures/user-app/build-image.sh"), []);
    expect(built.ok, built.out).toBe(true);
    image = built.out;
    for (const port of [29850, 29851]) ids[port] = await startContainer(image, "api", port);
    ids[29859] = await startContainer(image, "worker", 29859); // another service of the project: not adopted
    h = await startControllerHarness({
      engine: "haproxy",
      listen: LISTEN,
      portRange: "29860-29869",
      service: {
        name: "api",
        runtime: "docker",
        discover: { project: PROJECT, service: "api" },
        dataPort: 3000,
        replicas: 2,
        rules: rulesSchema.parse({ healthCheck: { path: "/api/health", expectStatus: 200, intervalMs: 300, fall: 2, rise: 2 }, drainTimeoutMs: 2000 }),
      },
    });
    actions = await import("@/app/api/replicas/[id]/actions/route");
    service = await import("@/app/api/services/[id]/route");
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    const left = await run("docker", ["ps", "-aq", "--filter", `label=${TEST_LABEL}`]);
    if (left.ok && left.out) await run("docker", ["rm", "-f", ...left.out.split("\n")]);
  }, 60_000);

  const act = async (replicaId: string, body: Record<string, unknown>) => {
    const res = await h.api(actions.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body }, { id: replicaId });
    return { status: res.status, json: (await res.json()) as { error?: { message: string } } };
  };

  it("adopts the two api containers (not the worker) and balances them", async () => {
    const rows = await h.ready();
    expect(rows.map((r) => r.dataAddr).sort()).toEqual(["127.0.0.1:29850", "127.0.0.1:29851"]);
    expect(rows.every((r) => r.id.startsWith("dswdiscapi"))).toBe(true);
    expect(rows.map((r) => r.runtimeRef).sort()).toEqual([ids[29850], ids[29851]].sort());
    await until("both answer through HAProxy", () => ports(10), (s) => s.size === 2, 15_000, 100);
  }, 60_000);

  it("follows a container that starts with the labels, and one that goes", async () => {
    const startedAt = Date.now();
    ids[29852] = await startContainer(image, "api", 29852);
    await until("the new container answers through HAProxy", () => ports(12), (s) => s.has("29852"), 20_000, 100);
    const joinedMs = Date.now() - startedAt;
    await docker("stop", "-t", "1", ids[29851]);
    await docker("rm", ids[29851]);
    await waitFor("the removed container leaves the pool", async () => !(await h.replicas()).some((r) => r.dataAddr === "127.0.0.1:29851"), 20_000, 100);
    const seen = await until("traffic reaches 29850 and 29852 only", () => ports(12), (s) => s.size === 2 && s.has("29850") && s.has("29852"), 15_000, 100);
    expect([...seen].sort()).toEqual(["29850", "29852"]);
    console.log(`[docker-discovery] a new labelled container joined in ${joinedMs} ms; a removed one left`);
  }, 60_000);

  it("restarts and stops containers through the panel (never removes one); remove and scaling answer 409", async () => {
    const one = (await h.replicas()).find((r) => r.dataAddr === "127.0.0.1:29850")!;
    const before = await docker("inspect", "-f", "{{.State.StartedAt}}", ids[29850]);
    expect((await act(one.id, { action: "restart" })).status).toBe(200);
    await waitFor("the container restarted and is back in rotation", async () => {
      const now = await docker("inspect", "-f", "{{.State.StartedAt}}", ids[29850]);
      const row = (await h.replicas()).find((r) => r.id === one.id);
      return now !== before && row?.state === "ready" && row.inEngine;
    }, 30_000, 200);
    expect(await running(ids[29850])).toBe(true);
    const removal = await act(one.id, { action: "remove" });
    expect(removal.status).toBe(409);
    expect(removal.json.error?.message).toContain("never removes");
    // stop through the panel: the container stops (it is not removed) and leaves the pool
    const two = (await h.replicas()).find((r) => r.dataAddr === "127.0.0.1:29852")!;
    expect((await act(two.id, { action: "stop" })).status).toBe(200);
    await waitFor("the stopped container leaves the pool", async () => !(await h.replicas()).some((r) => r.id === two.id), 20_000, 100);
    expect(await running(ids[29852])).toBe(false);
    expect((await run("docker", ["inspect", "-f", "{{.State.Status}}", ids[29852]])).out).toBe("exited");
    const scale = await h.api(service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { replicas: 5 } }, { id: h.serviceId });
    expect(scale.status).toBe(409);
  }, 60_000);

  it("deleting the service leaves every container running", async () => {
    const res = await h.api(service.DELETE, `/api/services/${h.serviceId}`, { method: "DELETE" }, { id: h.serviceId });
    expect(res.status).toBe(200);
    // a full resync: every service reconciled, the orphan sweep run
    await h.m.controller().resync();
    for (const port of [29850, 29859]) expect(await running(ids[port]), String(port)).toBe(true);
    // the one the panel stopped is still there, stopped, never removed
    expect((await run("docker", ["inspect", "-f", "{{.State.Status}}", ids[29852]])).out).toBe("exited");
  }, 60_000);
});
