/**
 * Issue 10, "an operator is root on the host": replicas never run as root. Real
 * processes and containers, read from /proc and the Docker engine:
 * - the process runtime starts a replica as the unprivileged replica user, in its own
 *   process group, with an environment built from nothing (no panel variables);
 * - the bundled app in a clone inside a 0700 folder still starts (a readable copy), a
 *   user's command there is refused with the folder in the way, and a missing replica
 *   user is a refusal that says how to create it, never a fallback to root;
 * - Docker replicas run as the image's non-root user, an image that runs as root as
 *   nobody, and as root only when the spec allows it.
 * Ports: process replicas 25000-25049, containers 25050-25099.
 */
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProcessRuntime, type ProcessRuntime } from "@/lib/runtime/process";
import { createDockerRuntime, DOCKER_API_VERSION, type DockerRuntime } from "@/lib/runtime/docker";
import type { ReplicaSpec } from "@/lib/runtime/types";
import { REPLICA_SERVER_JS } from "../helpers/replica-process";
import { getJson } from "../helpers/runtime-checks";
import { waitFor } from "../helpers/load";
import { needs } from "../helpers/requirements";

const REPLICA_USER = "switchyard-replica";
const PUBLISH_DIR = "/var/lib/switchyard/replica-app";
/** What the runtime gives a replica, and nothing else: PATH, the service's variables, its own. */
const REPLICA_ENV = ["PATH", "PORT", "ADMIN_PORT", "ADMIN_TOKEN", "REPLICA_ID", "SERVICE_NAME", "MEMORY_LIMIT_MB", "BIND_HOST"];

const isRoot = process.getuid?.() === 0;
const whyNotRoot = isRoot ? null : "this test runs as root (only root can start replicas as another user; a panel that is not root runs them as itself)";
const hasUser = (() => {
  try {
    execFileSync("getent", ["passwd", REPLICA_USER], { stdio: "ignore" });
    return null;
  } catch {
    return `the user ${REPLICA_USER} does not exist: scripts/ci-setup.sh --system-only creates it`;
  }
})();

function spec(replicaId: string, extra: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    serviceId: "svc-run-as",
    serviceName: "runas",
    replicaId,
    env: { GREETING: "hello" },
    dataPort: 8000,
    adminPort: 9000,
    adminToken: `token-${replicaId}`,
    memoryLimitMb: 128,
    cpuLimit: null,
    ...extra,
  };
}

/** Real, effective, saved and filesystem uid of a process (/proc/<pid>/status "Uid:"). */
async function uidsOf(pid: number | string): Promise<number[]> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return /^Uid:\s+(.*)$/m.exec(status)![1].trim().split(/\s+/).map(Number);
}

async function environOf(pid: number | string): Promise<Record<string, string>> {
  const raw = await readFile(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    raw
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

/** Process group id (/proc/<pid>/stat field 5). */
async function pgrpOf(pid: number | string): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

describe.skipIf(needs("root and the replica user", whyNotRoot ?? hasUser))("process replicas run as the replica user", () => {
  let dataDir: string;
  let privateDir: string;
  let runtime: ProcessRuntime;
  const runtimes: ProcessRuntime[] = [];
  const make = (extra: Partial<Parameters<typeof createProcessRuntime>[0]> = {}) => {
    const r = createProcessRuntime({ dataDir, portRange: { from: 25000, to: 25049 }, defaultCommand: [process.execPath, REPLICA_SERVER_JS], ...extra });
    runtimes.push(r);
    return r;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sy-run-as-"));
    // a clone where `mktemp -d` or /root puts one: a 0700 folder (the clone itself is 0755)
    privateDir = await mkdtemp(path.join(os.tmpdir(), "sy-private-"));
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
    await mkdir(path.join(privateDir, "clone", "replica"), { recursive: true, mode: 0o755 });
    await copyFile(REPLICA_SERVER_JS, path.join(privateDir, "clone", "replica", "server.js"));
    // the panel's own secrets, which a replica must never inherit
    process.env.ADMIN_PASSWORD = "panel-admin-password-7731";
    process.env.SWITCHYARD_TEST_SECRET = "panel-secret-7731";
    runtime = make();
  });

  afterAll(async () => {
    delete process.env.ADMIN_PASSWORD;
    delete process.env.SWITCHYARD_TEST_SECRET;
    for (const r of runtimes) for (const x of await r.list().catch(() => [])) await r.remove(x.replicaId).catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (privateDir) await rm(privateDir, { recursive: true, force: true });
  });

  it("starts the replica as the unprivileged user, in its own process group, with only its own environment", async () => {
    const r = await runtime.create(spec("ua1"));
    await waitFor("ua1 /health", async () => (await getJson(r.dataAddr.port)) !== null, 10_000);
    const pid = r.runtimeRef;
    const uids = await uidsOf(pid);
    const replicaUid = Number(execFileSync("id", ["-u", REPLICA_USER], { encoding: "utf8" }).trim());
    console.log(`replica pid ${pid}: Uid ${uids.join(" ")} (${REPLICA_USER} is ${replicaUid})`);
    expect(uids).toEqual([replicaUid, replicaUid, replicaUid, replicaUid]);
    expect(uids).not.toContain(0);
    expect(await pgrpOf(pid)).toBe(Number(pid));
    const environ = await environOf(pid);
    expect(Object.keys(environ).sort()).toEqual([...REPLICA_ENV, "GREETING"].sort());
    expect(JSON.stringify(environ)).not.toMatch(/7731/);
    expect(environ.ADMIN_TOKEN).toBe("token-ua1");
  });

  it("a second replica sees no other replica's token", async () => {
    const r = await runtime.create(spec("ua2"));
    const environ = await environOf(r.runtimeRef);
    expect(environ.ADMIN_TOKEN).toBe("token-ua2");
    expect(JSON.stringify(environ)).not.toContain("token-ua1");
  });

  it("the bundled app of a clone in a 0700 folder starts from a copy the replica user can read", async () => {
    const inPrivate = make({ defaultCommand: [process.execPath, path.join(privateDir, "clone", "replica", "server.js")], cwd: path.join(privateDir, "clone") });
    const r = await inPrivate.create(spec("ua3"));
    await waitFor("ua3 /health", async () => (await getJson(r.dataAddr.port)) !== null, 10_000);
    expect((await uidsOf(r.runtimeRef))[1]).not.toBe(0);
    const cmdline = (await readFile(`/proc/${r.runtimeRef}/cmdline`, "utf8")).split("\0");
    console.log(`replica in a 0700 clone runs: ${cmdline.join(" ").trim()}`);
    expect(cmdline[1].startsWith(PUBLISH_DIR + "/")).toBe(true);
    expect(await readFile(cmdline[1], "utf8")).toBe(await readFile(REPLICA_SERVER_JS, "utf8"));
    expect((await stat(cmdline[1])).mode & 0o777).toBe(0o644);
  });

  it("refuses a user's command the replica user cannot read, naming the folder in the way", async () => {
    const app = path.join(privateDir, "clone", "replica", "server.js");
    const err = await runtime.create(spec("ua4", { command: [process.execPath, app] })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`cannot read ${app}`);
    expect((err as Error).message).toContain(`the folder ${privateDir} is mode 0700`);
    expect(await runtime.inspect("ua4")).toBeNull();
  });

  it("refuses to start anything while the replica user is missing, and says how to create it", async () => {
    const missing = make({ user: "sy-no-such-user" });
    const err = await missing.create(spec("ua5")).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/never run as root.*sy-no-such-user .*does not exist.*useradd --system --no-create-home .*sy-no-such-user/);
    expect(await missing.inspect("ua5")).toBeNull();
    expect(await readdir(path.join(dataDir, "replicas"))).not.toContain("ua5");
  });
});

/** A Docker engine with the replica image, or why not. */
function whyNoDocker(): string | null {
  try {
    execFileSync("docker", ["image", "inspect", "switchyard/replica:latest"], { stdio: "ignore", timeout: 10_000 });
    return null;
  } catch {
    try {
      execFileSync("bash", ["scripts/start-dockerd.sh"], { stdio: "ignore", timeout: 120_000 });
      execFileSync("bash", ["scripts/build-replica-image.sh"], { stdio: "ignore", timeout: 120_000 });
      return null;
    } catch (e) {
      return `no Docker engine with switchyard/replica:latest (scripts/start-dockerd.sh, scripts/build-replica-image.sh): ${(e as Error).message.split("\n")[0]}`;
    }
  }
}

describe.skipIf(needs("a Docker engine", whyNoDocker()))("docker replicas never run as root unless allowed", () => {
  const docker = new Docker({ socketPath: "/var/run/docker.sock", version: DOCKER_API_VERSION });
  const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`;
  const ROOT_IMAGE = `switchyard/replica-root-test:${RUN}`;
  let runtime: DockerRuntime;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sy-run-as-docker-"));
    runtime = createDockerRuntime({ network: "host", portRange: { from: 25050, to: 25099 }, defaultImage: "switchyard/replica:latest", panelId: `run-as-${RUN}` });
    // the bundled image running as root, like many images from a registry (it has no /etc/passwd: uid 0, not "root")
    const base = await docker.createContainer({ Image: "switchyard/replica:latest", Labels: { "switchyard.test": RUN } });
    const [repo, tag] = ROOT_IMAGE.split(":");
    await base.commit({ repo, tag, changes: "USER 0:0" });
    await base.remove({ force: true });
  });

  afterAll(async () => {
    if (runtime) for (const r of await runtime.list().catch(() => [])) await runtime.remove(r.runtimeRef).catch(() => undefined);
    await docker.getImage(ROOT_IMAGE).remove({ force: true }).catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const dspec = (name: string, extra: Partial<ReplicaSpec> = {}): ReplicaSpec => spec(`${name}${RUN}`, { serviceId: `svc-run-as-${RUN}`, serviceName: `ra${RUN}`, memoryLimitMb: 96, ...extra });

  async function userOf(ref: string): Promise<{ configured: string; uid: number }> {
    const info = await docker.getContainer(ref).inspect();
    await waitFor("the container's process", async () => (await docker.getContainer(ref).inspect()).State.Pid > 0, 10_000);
    const pid = (await docker.getContainer(ref).inspect()).State.Pid;
    return { configured: info.Config.User, uid: (await uidsOf(pid))[1] };
  }

  it("the bundled image runs as its own non-root user", async () => {
    const r = await runtime.create(dspec("d1"));
    const u = await userOf(r.runtimeRef);
    console.log(`bundled image: Config.User ${JSON.stringify(u.configured)}, uid ${u.uid}`);
    expect(u.configured).toBe("65534:65534");
    expect(u.uid).toBe(65534);
  });

  it("an image that runs as root runs as nobody", async () => {
    const r = await runtime.create(dspec("d2", { image: ROOT_IMAGE }));
    const u = await userOf(r.runtimeRef);
    console.log(`root image: Config.User ${JSON.stringify(u.configured)}, uid ${u.uid}`);
    expect(u.configured).toBe("65534:65534");
    expect(u.uid).toBe(65534);
    await waitFor("d2 /health", async () => (await getJson(r.dataAddr.port)) !== null, 10_000);
  });

  it("and as root only when an admin allowed it for the service", async () => {
    const r = await runtime.create(dspec("d3", { image: ROOT_IMAGE, allowRoot: true }));
    const u = await userOf(r.runtimeRef);
    expect(u.configured).toBe("0:0");
    expect(u.uid).toBe(0);
  });
});
