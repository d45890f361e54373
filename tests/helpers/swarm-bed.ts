/**
 * Test helpers for the Swarm suites: a bed of their own (scripts/swarm-bed.sh with a name,
 * subnet and folder per suite), and keep-alive GET / loops through a Swarm balancer (on a swarm bed node's address,
 * scripts/swarm-bed.sh), bounded in time, until stop(); answers counted by the replica that
 * says it answered (the replica app's `replica` field, REPLICA_ID sy-<name>.<slot> on Swarm).
 */
import http from "node:http";
import path from "node:path";
import { execFile } from "node:child_process";
import { runCommand, whyNoDocker } from "./docker-cli";
import { startControllerHarness, type ControllerHarness } from "./controller-harness";

const ROOT = path.resolve(__dirname, "../..");

/** A bed of 3 nodes under `name` (namespaces <name>-n1..3) on `net`.0/24, its files in `dir`, these images loaded. */
export function swarmBed(opts: { name: string; net: string; dir: string; images: string[] }) {
  const env = { ...process.env, SWARM_BED_DIR: opts.dir, SWARM_BED_NAME: opts.name, SWARM_BED_NET: opts.net, SWARM_BED_NODES: "3", SWARM_BED_IMAGES: opts.images.join(" ") };
  const run = (...cmd: string[]) =>
    new Promise<{ ok: boolean; out: string }>((resolve) =>
      execFile("bash", [path.join(ROOT, "scripts/swarm-bed.sh"), ...cmd], { cwd: ROOT, env, timeout: 180_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}` })),
    );
  /** The replica image built, the balancer image built, the bed up: the manager's socket and its node's bed address. */
  async function up(replicaImage: string): Promise<{ manager: string; managerAddr: string }> {
    const docker = await whyNoDocker();
    if (docker) throw new Error(docker);
    const img = await runCommand("bash", [path.join(ROOT, "scripts/build-replica-image.sh"), replicaImage], 300_000);
    if (!img.ok) throw new Error(`replica image: ${img.out}`);
    const lb = await run("haproxy-image");
    if (!lb.ok) throw new Error(`haproxy image: ${lb.out}`);
    const res = await run("up");
    if (!res.ok) throw new Error(`swarm-bed up failed: ${res.out}`);
    return { manager: /^SWARM_MANAGER=(\S+)$/m.exec(res.out)?.[1] ?? "", managerAddr: /^SWARM_BED_NODE_1=\S+ (\S+) /m.exec(res.out)?.[1] ?? "" };
  }
  /**
   * The bed up (as up()), then an in-process panel (controller harness, HAProxy engine on `listen`, no process
   * replicas) driving it: SWARM_MANAGER, its own overlay network and Swarm balancer ports.
   */
  async function upWithPanel(
    replicaImage: string,
    panel: { listen: number; portRange: string; network: string; balancerPorts: string; balancerImage: string },
  ): Promise<{ manager: string; managerAddr: string; h: ControllerHarness }> {
    const { manager, managerAddr } = await up(replicaImage);
    if (!managerAddr.startsWith(`${opts.net}.`)) throw new Error(`the manager's bed address ${managerAddr} is not on ${opts.net}.0/24`);
    const h = await startControllerHarness({
      engine: "haproxy",
      listen: panel.listen,
      portRange: panel.portRange,
      service: { replicas: 0 },
      env: { SWARM_MANAGER: manager, SWARM_NETWORK: panel.network, SWARM_BALANCER_PORTS: panel.balancerPorts, SWARM_BALANCER_IMAGE: panel.balancerImage },
    });
    return { manager, managerAddr, h };
  }
  return { run, up, upWithPanel };
}

export type SwarmLoad = { ok: number; failed: number; errors: string[]; byReplica: Record<string, number>; lastAt: Record<string, number> };

export function startSwarmLoad(host: string, port: number, concurrency: number, maxMs: number): { stop: () => Promise<SwarmLoad>; result: SwarmLoad } {
  const result: SwarmLoad = { ok: 0, failed: 0, errors: [], byReplica: {}, lastAt: {} };
  const deadline = Date.now() + maxMs;
  let stopped = false;
  const one = (agent: http.Agent) =>
    new Promise<void>((resolve) => {
      const req = http.get({ host, port, path: "/", agent, timeout: 5000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          if (res.statusCode === 200) {
            result.ok++;
            const id = (JSON.parse(body) as { replica?: string }).replica ?? "?";
            result.byReplica[id] = (result.byReplica[id] ?? 0) + 1;
            result.lastAt[id] = Date.now();
          } else {
            result.failed++;
            result.errors.push(`status ${res.statusCode}`);
          }
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (e) => {
        result.failed++;
        result.errors.push(e.message);
        resolve();
      });
    });
  const loops = Array.from({ length: concurrency }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (!stopped && Date.now() < deadline) await one(agent);
    agent.destroy();
  });
  return {
    result,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return result;
    },
  };
}
