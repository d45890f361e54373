/**
 * What the README says about starting: a bad environment value stops `npm start` (the
 * real scripts/start.ts, and server.ts itself) with a message naming the variable and
 * what it accepts, before anything is created; ENGINE=auto picks HAProxy when its binary
 * is installed, else the builtin proxy.
 *
 * No ports: nothing gets as far as listening.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import { REPO_ROOT } from "../helpers/panel";
import { hasBinary, needs } from "../helpers/requirements";

type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

const dataDirs: string[] = [];

/** Runs `command` from the repository with a small environment plus `env`; kills it after 60 s. */
function run(command: string, args: string[], env: Record<string, string>): Promise<Exit> & { dataDir: string } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-badenv-"));
  dataDirs.push(dataDir);
  const done = new Promise<Exit>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { NODE_ENV: "production", PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? os.tmpdir(), DATA_DIR: dataDir, PORT: "3229", BALANCER_PORT: "18306", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return Object.assign(done, { dataDir });
}

const tsx = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");

afterAll(() => {
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("a bad environment value stops the start with a message naming it", () => {
  const cases: { env: Record<string, string>; says: RegExp }[] = [
    { env: { PORT: "99999" }, says: /^ {2}PORT: .*65535/m },
    { env: { ENGINE: "traefik" }, says: /^ {2}ENGINE: .*"auto".*"haproxy".*"builtin".*"nginx"/m },
    { env: { MAX_REPLICAS: "lots" }, says: /^ {2}MAX_REPLICAS: .*number/m },
    { env: { PORT_RANGE: "30000-20000" }, says: /^ {2}PORT_RANGE: from < to, inside 1024-65535$/m },
    { env: { SESSION_TTL_HOURS: "0" }, says: /^ {2}SESSION_TTL_HOURS: .*>=1/m },
    { env: { TRUST_PROXY: "maybe" }, says: /^ {2}TRUST_PROXY: .*"true".*"false"/m },
    { env: { DATABASE_URL: "postgres://db/switchyard" }, says: /^ {2}DATABASE_URL: a SQLite URL such as file:/m },
    { env: { RUNTIME: "k8s" }, says: /^ {2}RUNTIME: .*"process".*"docker"/m },
  ];

  for (const c of cases) {
    const [name, value] = Object.entries(c.env)[0];
    it(`${name}=${value}: scripts/start.ts exits 1 naming ${name}, and creates nothing`, async () => {
      const started = run(tsx, ["scripts/start.ts"], c.env);
      const exit = await started;
      expect(exit.code, exit.stdout + exit.stderr).toBe(1);
      expect(exit.stderr).toContain("Switchyard cannot start: bad configuration");
      expect(exit.stderr).toMatch(c.says);
      expect(exit.stderr).toContain("See .env.example for every variable.");
      // only the bad variable is named
      expect(exit.stderr.split("\n").filter((l) => /^ {2}[A-Z_]+: /.test(l))).toHaveLength(1);
      expect(exit.stdout).not.toContain("panel on http");
      expect(fs.readdirSync(started.dataDir)).toEqual([]);
    });
  }

  it("several bad values are all named at once", async () => {
    const exit = await run(tsx, ["scripts/start.ts"], { PORT: "0", ENGINE: "apache", HOST: "bad host!" });
    expect(exit.code).toBe(1);
    for (const name of ["PORT", "ENGINE", "HOST"]) expect(exit.stderr).toMatch(new RegExp(`^  ${name}: `, "m"));
  });

  it("`npm start` and server.ts itself stop the same way", async () => {
    const viaNpm = await run("npm", ["start", "--silent"], { ENGINE: "traefik" });
    expect(viaNpm.code).toBe(1);
    expect(viaNpm.stderr).toMatch(/^ {2}ENGINE: /m);
    const viaServer = await run(tsx, ["server.ts"], { MAX_REPLICAS: "0" });
    expect(viaServer.code).toBe(1);
    expect(viaServer.stderr).toContain("Switchyard cannot start: bad configuration");
    expect(viaServer.stderr).toMatch(/^ {2}MAX_REPLICAS: .*>=1/m);
  });
});

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("ENGINE=auto", () => {
  const saved = { ENGINE: process.env.ENGINE, HAPROXY_BIN: process.env.HAPROXY_BIN };
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    forget("env");
  });

  it("picks HAProxy when its binary is installed, else the builtin proxy", async () => {
    const { selectedEngineKind } = await import("@/lib/engines/registry");
    delete process.env.ENGINE; // the default is auto
    delete process.env.HAPROXY_BIN;
    forget("env");
    expect(selectedEngineKind()).toBe("haproxy");
    process.env.ENGINE = "auto";
    forget("env");
    expect(selectedEngineKind()).toBe("haproxy");
    process.env.HAPROXY_BIN = "/nonexistent/haproxy";
    forget("env");
    expect(selectedEngineKind()).toBe("builtin");
  });
});
