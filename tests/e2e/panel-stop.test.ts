/**
 * Stopping: the panel leaves the balancer and the replicas serving when it stops, and says
 * so with the command that stops them; `npm run stop` (scripts/stop.ts) stops everything
 * this data folder runs: the panel when it runs, the replicas, the supervised balancer.
 * Ports: panel 3161-3169, balancer 18161, replicas 23700-23749.
 */
import { execFile } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { findFreePort, processesUnder, REPO_ROOT, startPanel, type Panel } from "../helpers/panel";
import { get, waitFor } from "../helpers/load";

const BALANCER = 18161;
const PASSWORD = "stop-test-pw";
const env = { ADMIN_USER: "admin", ADMIN_PASSWORD: PASSWORD, BALANCER_PORT: String(BALANCER), PORT_RANGE: "23700-23749" };

type ReplicaJson = { state: string; inEngine: boolean; runtimeRef: string };

function npmRunStop(dataDir: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("npm", ["run", "--silent", "stop"], { cwd: REPO_ROOT, env: { ...process.env, DATA_DIR: dataDir }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

const balancerAnswers = () =>
  get(BALANCER, { timeoutMs: 2000 }).then(
    (h) => h.status === 200,
    () => false,
  );

describe("stopping the panel and everything it runs", () => {
  let panel: Panel | null = null;
  afterAll(async () => {
    await panel?.stop();
  });

  it("the panel says the balancer and replicas keep serving; npm run stop ends them all", async () => {
    panel = await startPanel({ port: await findFreePort(3161, 3169), env });
    const cookie = await panel.login("admin", PASSWORD);
    await waitFor(
      "the demo service's 3 replicas in rotation",
      async () => {
        const list = (await (await panel!.request("/api/services", { cookie })).json()) as { services: { instances: ReplicaJson[] }[] };
        return (list.services[0]?.instances ?? []).filter((r) => r.state === "ready" && r.inEngine).length === 3;
      },
      90_000,
      250,
    );
    expect(await balancerAnswers()).toBe(true);

    // 1. the panel stops alone: traffic goes on, and it says how to stop the rest
    await panel.stop({ keepRunning: true });
    expect(panel.output()).toContain("keep serving");
    expect(panel.output()).toContain("npm run stop");
    expect(await balancerAnswers()).toBe(true);
    const left = processesUnder(panel.dataDir);
    expect(left.length).toBeGreaterThanOrEqual(4); // the balancer and 3 replicas

    // 2. npm run stop, with the panel running again on the same data: it stops the panel first
    const dataDir = panel.dataDir;
    panel = await startPanel({ port: panel.port, env, dataDir });
    const panelPid = panel.pid;
    const stopped = await npmRunStop(dataDir);
    console.log(`[npm run stop]\n${stopped.out}`);
    expect(stopped.code).toBe(0);
    expect(stopped.out).toMatch(/panel \(pid \d+\): SIGTERM/);
    expect(stopped.out).toMatch(/process replicas stopped: 3/);
    await waitFor("the panel, the balancer and the replicas to be gone", () => processesUnder(dataDir).length === 0, 20_000, 200);
    expect(await balancerAnswers()).toBe(false);
    expect(() => process.kill(panelPid, 0)).toThrow();

    // 3. a second run finds nothing to stop and still succeeds
    const again = await npmRunStop(dataDir);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/process replicas stopped: 0/);
  });
});
