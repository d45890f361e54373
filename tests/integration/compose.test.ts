/**
 * Issue 15, part 1: the compose stack, for real, with Debian's docker-compose 1.29.
 * scripts/build-base-images.sh builds debian:bookworm-slim and node:22-bookworm-slim
 * locally (debootstrap + the host's own Node; cached as images between runs) and
 * switchyard/panel-deps:local (this checkout's node_modules, so the build needs no npm
 * registry); `docker-compose build` builds the panel and the replica image; `up -d` starts
 * the stack; the panel answers on 127.0.0.1, the admin signs in with the password this test
 * put in the compose secret (ADMIN_PASSWORD_SECRET; the panel reads /run/secrets/admin_password)
 * and that password is in no environment (`docker inspect`, the panel's processes); the
 * balancer serves the demo service's replicas, which are containers on the project's bridge
 * network; scaling to 5 through the panel's API adds containers that the balancer serves;
 * `stop` then `start` serves again (timed, printed); `down -v` leaves no container, network or volume.
 * Every published port is bound to 127.0.0.1 and the test talks to 127.0.0.1 only.
 *
 * Project sycomposetest, panel 127.0.0.1:3410, balancer 127.0.0.1:18500 (docs/TESTING.md);
 * the replicas publish nothing (they listen inside their own containers).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasBinary, needs } from "../helpers/requirements";
import { isPortFree } from "../helpers/panel";
import { until, waitFor } from "../helpers/load";

const ROOT = path.resolve(__dirname, "../..");
const PROJECT = "sycomposetest";
const PANEL_PORT = 3410;
const BALANCER_PORT = 18500;
const NETWORK = `${PROJECT}-replicas`;
const PANEL = `http://127.0.0.1:${PANEL_PORT}`;
const ADMIN_PASSWORD = process.env.COMPOSE_TEST_ADMIN_PASSWORD ?? `c-${randomBytes(12).toString("hex")}`;

/** the compose secret's file: the admin's password, never in an environment */
const secretDir = mkdtempSync(path.join(os.tmpdir(), "sy-compose-secret-"));
const SECRET_FILE = path.join(secretDir, "admin_password");
writeFileSync(SECRET_FILE, ADMIN_PASSWORD, { mode: 0o600 });

/** compose's environment: this test's ports, network, images and the admin's password file */
const composeEnv: NodeJS.ProcessEnv = {
  ...process.env,
  COMPOSE_PROJECT_NAME: PROJECT,
  ADMIN_USER: "admin",
  ADMIN_PASSWORD_SECRET: SECRET_FILE,
  PANEL_PORT: String(PANEL_PORT),
  BALANCER_PORT: String(BALANCER_PORT),
  BIND_ADDRESS: "127.0.0.1",
  SWITCHYARD_NETWORK: NETWORK,
  REPLICA_IMAGE: "switchyard/replica:compose-test",
  SWITCHYARD_DEPS_IMAGE: "switchyard/panel-deps:local",
};

type Run = { ok: boolean; out: string; seconds: number };
function run(file: string, args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const start = Date.now();
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: timeoutMs, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim() || String(err?.message ?? ""), seconds: (Date.now() - start) / 1000 }),
    );
  });
}
const compose = (args: string[], timeoutMs = 120_000) => run("docker-compose", ["-p", PROJECT, ...args], timeoutMs, composeEnv);
const docker = (args: string[]) => run("docker", args, 30_000);
const tail = (s: string, n = 30) => s.split("\n").slice(-n).join("\n");

async function whyNoDocker(): Promise<string | null> {
  if ((await docker(["version", "--format", "{{.Server.Version}}"])).ok) return null;
  const started = await run(path.join(ROOT, "scripts/start-dockerd.sh"), [], 180_000);
  if ((await docker(["version", "--format", "{{.Server.Version}}"])).ok) return null;
  return `no Docker engine: scripts/start-dockerd.sh said: ${tail(started.out, 3)}`;
}

async function lines(args: string[]): Promise<string[]> {
  const r = await docker(args);
  return r.ok ? r.out.split("\n").filter(Boolean) : [];
}

/** The running containers on the replicas' network, as replica id → network mode and host ports. */
async function replicaContainers(): Promise<{ replica: string; networks: string[]; published: string }[]> {
  const ids = await lines(["ps", "-q", "--filter", `network=${NETWORK}`, "--filter", "label=switchyard.managed=true"]);
  if (ids.length === 0) return [];
  const r = await docker(["inspect", "--format", '{{index .Config.Labels "switchyard.replica"}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}},{{end}}|{{json .HostConfig.PortBindings}}', ...ids]);
  return r.out
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [replica, nets, published] = l.split("|");
      return { replica, networks: nets.split(",").filter(Boolean), published };
    });
}

/** The replica that answered one request through the balancer (the demo app names itself). */
async function servedBy(): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${BALANCER_PORT}/`, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) return null;
    return String(((await res.json()) as { replica?: string }).replica ?? "") || null;
  } catch {
    return null;
  }
}

/** Replicas seen in `n` requests through the balancer. */
async function replicasServing(n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await servedBy();
    if (r) seen.add(r);
  }
  return seen;
}

async function projectLeftovers(): Promise<string[]> {
  const containers = await lines(["ps", "-a", "--format", "{{.Names}}", "--filter", `label=com.docker.compose.project=${PROJECT}`]);
  const onNetwork = await lines(["ps", "-a", "--format", "{{.Names}}", "--filter", `network=${NETWORK}`]);
  const networks = await lines(["network", "ls", "--format", "{{.Name}}", "--filter", `name=^${NETWORK}$`]);
  const volumes = await lines(["volume", "ls", "--format", "{{.Name}}", "--filter", `label=com.docker.compose.project=${PROJECT}`]);
  return [...containers.map((c) => `container ${c}`), ...onNetwork.map((c) => `container ${c} (on ${NETWORK})`), ...networks.map((n) => `network ${n}`), ...volumes.map((v) => `volume ${v}`)];
}

const missing =
  needs("docker-compose", hasBinary("docker-compose", ["version"])) ||
  needs("debootstrap", hasBinary("debootstrap", ["--version"])) ||
  needs("a Docker engine", await whyNoDocker());

describe.skipIf(missing)("docker compose: the panel, HAProxy and the demo replicas as containers", () => {
  let cookie = "";
  let webId = "";
  let firstReplicaContainers: string[] = [];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    // a run that died half-way left its project: take it down first
    await compose(["down", "-v", "--remove-orphans", "-t", "30"], 180_000);
    for (const port of [PANEL_PORT, BALANCER_PORT]) expect(await isPortFree(port), `127.0.0.1:${port} is taken`).toBe(true);

    const bases = await run(path.join(ROOT, "scripts/build-base-images.sh"), ["--panel-deps"], 600_000);
    expect(bases.ok, tail(bases.out)).toBe(true);
    timings["base images"] = bases.seconds;

    const images = ["switchyard/panel:local", composeEnv.REPLICA_IMAGE!];
    const before = await Promise.all(images.map((i) => docker(["image", "inspect", "--format", "{{.Id}}", i])));
    const built = await compose(["build"], 900_000);
    expect(built.ok, tail(built.out, 60)).toBe(true);
    timings["compose build"] = built.seconds;
    // the images this build replaced (untagged now, 1 GB for the panel): removed, so runs do not pile them up
    for (const old of before) if (old.ok && (await docker(["image", "inspect", "--format", "{{len .RepoTags}}", old.out])).out === "0") await docker(["rmi", old.out]);

    const up = await compose(["up", "-d"], 300_000);
    expect(up.ok, tail(up.out, 60)).toBe(true);
    timings["compose up -d"] = up.seconds;
    const t = Date.now();
    await until(
      "the panel's /api/health on 127.0.0.1",
      async () => (await fetch(`${PANEL}/api/health`, { signal: AbortSignal.timeout(3000) }).catch(() => null))?.status ?? 0,
      (s) => s === 200,
      120_000,
      500,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${tail((await compose(["logs", "--tail", "40"])).out, 40)}`);
    });
    timings["panel answers"] = (Date.now() - t) / 1000;
  }, 1_800_000);

  afterAll(async () => {
    // normally the last test did this already; after a failure it cleans up
    if ((await projectLeftovers()).length > 0) await compose(["down", "-v", "--remove-orphans", "-t", "30"], 180_000);
    rmSync(secretDir, { recursive: true, force: true });
    console.log(`compose timings (s): ${JSON.stringify(timings)}`);
  }, 300_000);

  it("publishes the panel and the balancer on 127.0.0.1 only, and the replicas not at all", async () => {
    const panel = await docker(["inspect", "--format", "{{json .HostConfig.PortBindings}}", `${PROJECT}_panel_1`]);
    expect(panel.ok, panel.out).toBe(true);
    const bindings = JSON.parse(panel.out) as Record<string, { HostIp: string; HostPort: string }[]>;
    expect(bindings).toEqual({
      "3000/tcp": [{ HostIp: "127.0.0.1", HostPort: String(PANEL_PORT) }],
      "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(BALANCER_PORT) }],
    });
    const health = await docker(["inspect", "--format", "{{.State.Health.Status}}", `${PROJECT}_panel_1`]);
    expect(["starting", "healthy"]).toContain(health.out);
  });

  it("serves public/ without a session: robots.txt disallows everything, the icon is the pages' icon", async () => {
    const robots = await fetch(`${PANEL}/robots.txt`);
    expect(robots.status).toBe(200);
    expect(await robots.text()).toMatch(/^User-agent: \*\nDisallow: \/$/m);
    const icon = await fetch(`${PANEL}/icon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    const page = await (await fetch(`${PANEL}/login`)).text();
    expect(page).toMatch(/<link rel="icon" href="\/icon.svg(\?[^"]*)?" type="image\/svg\+xml"/);
    expect(page).toMatch(/<meta name="robots" content="noindex, nofollow"/);
  });

  it("signs the admin in with the password from the compose secret (and not with another)", async () => {
    const login = (password: string) =>
      fetch(`${PANEL}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json", origin: PANEL }, body: JSON.stringify({ username: "admin", password }) });
    expect((await login(`${ADMIN_PASSWORD}-wrong`)).status).toBe(401);
    const res = await login(ADMIN_PASSWORD);
    expect(res.status, await res.clone().text()).toBe(200);
    cookie = res.headers.getSetCookie().find((c) => c.startsWith("sy_session="))?.split(";")[0] ?? "";
    expect(cookie).not.toBe("");
  });

  it("the password is in no environment: not in `docker inspect`, not in the panel's processes", async () => {
    const inspect = await docker(["inspect", `${PROJECT}_panel_1`]);
    expect(inspect.ok, inspect.out).toBe(true);
    expect(inspect.out).toContain("ADMIN_PASSWORD_FILE=/run/secrets/admin_password");
    expect(inspect.out).not.toContain(ADMIN_PASSWORD);
    // every process in the panel's container (the entrypoint, the panel, HAProxy): their environments
    const environ = await docker(["exec", `${PROJECT}_panel_1`, "sh", "-c", "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done 2>/dev/null; echo environments-read"]);
    expect(environ.out).toContain("ADMIN_PASSWORD_FILE=/run/secrets/admin_password");
    expect(environ.out).not.toContain(ADMIN_PASSWORD);
  });

  it("the balancer on 127.0.0.1 serves the demo service's three replicas, each a container on the bridge network", async () => {
    const services = (await (await fetch(`${PANEL}/api/services`, { headers: { cookie } })).json()) as { services: { id: string; name: string; runtime: string }[] };
    const web = services.services.find((s) => s.name === "web");
    expect(web?.runtime).toBe("docker");
    webId = web!.id;
    const containers = await waitFor("three replica containers", async () => {
      const c = await replicaContainers();
      return c.length === 3 ? c : null;
    }, 60_000, 250);
    for (const c of containers) {
      expect(c.networks).toEqual([NETWORK]);
      expect(c.published === "{}" || c.published === "null").toBe(true);
    }
    firstReplicaContainers = containers.map((c) => c.replica).sort();
    const seen = await until("the balancer serving all three", () => replicasServing(9), (s) => s.size === 3, 60_000, 200);
    expect([...seen].sort()).toEqual(firstReplicaContainers);
  });

  it("scaling to 5 through the panel's API adds two containers, and the balancer serves all five", async () => {
    const res = await fetch(`${PANEL}/api/services/${webId}`, {
      method: "PATCH",
      headers: { cookie, origin: PANEL, "content-type": "application/json" },
      body: JSON.stringify({ replicas: 5 }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const t = Date.now();
    const containers = await waitFor("five replica containers", async () => {
      const c = await replicaContainers();
      return c.length === 5 ? c : null;
    }, 60_000, 250);
    expect(containers.every((c) => c.networks.length === 1 && c.networks[0] === NETWORK)).toBe(true);
    const ids = containers.map((c) => c.replica).sort();
    for (const id of firstReplicaContainers) expect(ids).toContain(id);
    const seen = await until("the balancer serving all five", () => replicasServing(15), (s) => s.size === 5, 60_000, 200);
    expect([...seen].sort()).toEqual(ids);
    timings["scale 3 -> 5 served"] = (Date.now() - t) / 1000;
  });

  it("stop, then start: HAProxy starts although the replicas' names are gone, and the balancer serves again (timed)", async () => {
    const stop = await compose(["stop", "-t", "60"], 180_000);
    expect(stop.ok, tail(stop.out)).toBe(true);
    timings["compose stop"] = stop.seconds;
    const t = Date.now();
    const start = await compose(["start"], 180_000);
    expect(start.ok, tail(start.out)).toBe(true);
    await until("the balancer serving five replicas again", () => replicasServing(15), (s) => s.size === 5, 150_000, 500);
    timings["compose start -> five served"] = (Date.now() - t) / 1000;
  });

  it("down -v leaves nothing: no container (the panel's replicas included), network or volume of the project", async () => {
    expect((await projectLeftovers()).length).toBeGreaterThan(0);
    const down = await compose(["down", "-v", "-t", "60"], 180_000);
    expect(down.ok, tail(down.out)).toBe(true);
    timings["compose down -v"] = down.seconds;
    expect(await projectLeftovers()).toEqual([]);
    expect(await lines(["ps", "-a", "--format", "{{.Names}}", "--filter", "name=^sy-web-"]).then((names) => names.filter((n) => firstReplicaContainers.some((id) => n.endsWith(id))))).toEqual([]);
    expect(await isPortFree(PANEL_PORT)).toBe(true);
    expect(await isPortFree(BALANCER_PORT)).toBe(true);
  });
});
