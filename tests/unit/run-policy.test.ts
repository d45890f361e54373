/**
 * Issue 10, "an operator is root on the host": the pure rules behind it — who may set
 * what runs, whom replicas run as, which container user, what a viewer sees.
 */
import { describe, expect, it } from "vitest";
import { codeLoadingChanges, isCodeLoadingEnv, runChangeRefusals, type AllowList, type RunFields } from "@/lib/core/run-policy";
import { decideRunAs, parsePasswdLine } from "@/lib/runtime/replica-user";
import { decideEngineRunAs } from "@/lib/engines/engine-user";
import { EXECUTE, modeAllows, READ } from "@/lib/runtime/file-access";
import { containerUser, isRootUser, NOBODY } from "@/lib/runtime/container-user";
import { commandChoices, imageChoices, policyErrors } from "@/components/services/service-form-model";
import { hideIn, HIDDEN, serviceViewFor, type ServiceView } from "@/lib/services/views";
import { aServiceView } from "@/tests/helpers/service-view";

const allow: AllowList = { images: ["registry.example/app:1.4"], commands: [["node", "app/server.js"]] };
const policy = { allow, defaultImage: "switchyard/replica:latest" };
const stored: RunFields = { image: null, command: ["node", "admin.js"], env: { NODE_OPTIONS: "--max-old-space-size=64", GREETING: "hi" }, allowRoot: false };

describe("code-loading environment variables", () => {
  it("names the ones that make a runtime load other code, and only those", () => {
    for (const n of ["NODE_OPTIONS", "NODE_PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "PYTHONPATH", "PYTHONSTARTUP", "PERL5OPT", "PERL5LIB", "RUBYOPT", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "BASH_ENV", "ENV", "GLIBC_TUNABLES"]) {
      expect(isCodeLoadingEnv(n), n).toBe(true);
    }
    for (const n of ["NODE_ENV", "GREETING", "LOG_LEVEL", "MEMORY_THRESHOLD_PERCENT", "PATHS", "DATABASE_URL", "ENVIRONMENT"]) {
      expect(isCodeLoadingEnv(n), n).toBe(false);
    }
  });

  it("a change is any add, edit or removal of one of them", () => {
    expect(codeLoadingChanges({ NODE_OPTIONS: "a", X: "1" }, { NODE_OPTIONS: "a", X: "2" })).toEqual([]);
    expect(codeLoadingChanges({ NODE_OPTIONS: "a" }, { NODE_OPTIONS: "b", LD_PRELOAD: "/x.so" })).toEqual(["LD_PRELOAD", "NODE_OPTIONS"]);
    expect(codeLoadingChanges({ PATH: "/bin" }, {})).toEqual(["PATH"]);
  });
});

describe("who may set what runs", () => {
  it("an admin may set anything", () => {
    expect(runChangeRefusals("admin", policy, { image: "evil:1", command: ["/bin/sh", "-c", "id"], env: { LD_PRELOAD: "/x.so" }, allowRoot: true }, null)).toEqual([]);
  });

  it("an operator may create with the built-in app or image and ordinary variables", () => {
    expect(runChangeRefusals("operator", policy, { image: null, command: null, env: { GREETING: "hi", NODE_ENV: "production" }, allowRoot: false }, null)).toEqual([]);
    expect(runChangeRefusals("operator", policy, { image: "switchyard/replica:latest", command: null, env: {}, allowRoot: false }, null)).toEqual([]);
  });

  it("an operator may run exactly what is on the allow-list", () => {
    expect(runChangeRefusals("operator", policy, { image: "registry.example/app:1.4", command: ["node", "app/server.js"], env: {} }, null)).toEqual([]);
    const refused = runChangeRefusals("operator", policy, { image: "registry.example/app:1.5", command: ["/bin/sh", "-c", "id > /tmp/x; exec node replica/server.js"], env: {} }, null);
    expect(refused.map((r) => r.path)).toEqual(["image", "command"]);
    expect(refused[0].message).toMatch(/allow-list/);
    expect(refused[1].message).toContain("node app/server.js");
    // near misses are misses: an extra argument, another tag
    expect(runChangeRefusals("operator", policy, { command: ["node", "app/server.js", "--inspect"] }, null)).toHaveLength(1);
  });

  it("an operator may not set, change or remove a code-loading variable, but keeps what an admin set", () => {
    const attempts: Record<string, string>[] = [{ NODE_OPTIONS: "--import=data:text/javascript,1" }, { LD_PRELOAD: "/tmp/x.so" }, { PATH: "/tmp:/bin" }];
    for (const env of attempts) {
      const refused = runChangeRefusals("operator", policy, { env }, null);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ path: "env", message: expect.stringMatching(/only an admin/) });
    }
    // editing another variable of an admin's service keeps NODE_OPTIONS as it was: allowed
    expect(runChangeRefusals("operator", policy, { env: { ...stored.env, GREETING: "hello" } }, stored)).toEqual([]);
    expect(runChangeRefusals("operator", policy, { env: { GREETING: "hi" } }, stored).map((r) => r.message)).toEqual([expect.stringContaining("NODE_OPTIONS")]);
    // the command an admin set may stay as it is
    expect(runChangeRefusals("operator", policy, { command: ["node", "admin.js"] }, stored)).toEqual([]);
  });

  it("only an admin lets containers run as root", () => {
    expect(runChangeRefusals("operator", policy, { allowRoot: true }, null).map((r) => r.path)).toEqual(["allowRoot"]);
    expect(runChangeRefusals("operator", policy, { allowRoot: false }, { ...stored, allowRoot: true }).map((r) => r.path)).toEqual(["allowRoot"]);
    expect(runChangeRefusals("operator", policy, { allowRoot: true }, { ...stored, allowRoot: true })).toEqual([]);
  });

  it("the form offers the operator what the policy allows and says why the rest is refused", () => {
    const p = { role: "operator" as const, allow, defaultImage: policy.defaultImage };
    expect(commandChoices(p, null).map((c) => c.value)).toEqual(["", "node app/server.js"]);
    expect(commandChoices(p, ["node", "admin.js"]).map((c) => c.label)).toContain("node admin.js (set by an admin)");
    expect(imageChoices(p, null).map((c) => c.value)).toEqual(["", "registry.example/app:1.4"]);
    expect(policyErrors(p, { env: { LD_PRELOAD: "/x.so" } })).toEqual({ env: expect.stringContaining("LD_PRELOAD") });
    expect(policyErrors({ ...p, role: "admin" }, { env: { LD_PRELOAD: "/x.so" } })).toEqual({});
  });
});

describe("whom process replicas run as", () => {
  it("reads getent's passwd lines", () => {
    expect(parsePasswdLine("switchyard-replica:x:999:995::/nonexistent:/usr/sbin/nologin")).toEqual({ name: "switchyard-replica", uid: 999, gid: 995 });
    expect(parsePasswdLine("")).toBeNull();
    expect(parsePasswdLine("broken:x:abc:1::/:/bin/sh")).toBeNull();
  });

  it("a root panel runs them as the replica user, and refuses rather than fall back to root", () => {
    expect(decideRunAs({ uid: 0, gid: 0 }, "switchyard-replica", { name: "switchyard-replica", uid: 999, gid: 995 })).toEqual({ name: "switchyard-replica", uid: 999, gid: 995, switched: true });
    expect(() => decideRunAs({ uid: 0, gid: 0 }, "switchyard-replica", null)).toThrow(/does not exist.*useradd --system --no-create-home .*switchyard-replica/);
    expect(() => decideRunAs({ uid: 0, gid: 0 }, "toor", { name: "toor", uid: 0, gid: 0 })).toThrow(/never run as root/);
  });

  it("a root panel's HAProxy workers drop to the engine user; no switch when the panel is not root; never root", () => {
    expect(decideEngineRunAs(0, "switchyard-engine", { name: "switchyard-engine", uid: 995, gid: 994 })).toEqual({ name: "switchyard-engine", uid: 995, gid: 994 });
    expect(decideEngineRunAs(1000, "switchyard-engine", null)).toBeNull();
    expect(() => decideEngineRunAs(0, "switchyard-engine", null)).toThrow(/does not exist.*useradd --system --no-create-home .*switchyard-engine/);
    expect(() => decideEngineRunAs(0, "toor", { name: "toor", uid: 0, gid: 5 })).toThrow(/never run as root/);
  });

  it("a panel that is not root runs them as itself", () => {
    expect(decideRunAs({ uid: 1000, gid: 1000 }, "switchyard-replica", null)).toMatchObject({ uid: 1000, gid: 1000, switched: false });
  });

  it("mode bits: owner, then group, then others", () => {
    const who = { uid: 999, gid: 995 };
    expect(modeAllows({ mode: 0o40700, uid: 0, gid: 0 }, who, EXECUTE)).toBe(false);
    expect(modeAllows({ mode: 0o40755, uid: 0, gid: 0 }, who, EXECUTE)).toBe(true);
    expect(modeAllows({ mode: 0o100640, uid: 0, gid: 995 }, who, READ)).toBe(true);
    expect(modeAllows({ mode: 0o100604, uid: 0, gid: 995 }, who, READ)).toBe(false); // the group bits apply, not others'
    expect(modeAllows({ mode: 0o100400, uid: 999, gid: 0 }, who, READ | EXECUTE)).toBe(false);
  });
});

describe("which user a container runs as", () => {
  it("root, 0 and an image without USER are root", () => {
    for (const u of ["", "root", "0", "0:0", "root:root", "000", undefined, null]) expect(isRootUser(u), String(u)).toBe(true);
    for (const u of ["65534", "65534:65534", "node", "1000:0"]) expect(isRootUser(u), u).toBe(false);
  });

  it("keeps a non-root image user, replaces root with nobody unless an admin allowed root", () => {
    expect(containerUser("65534:65534", false)).toBeUndefined();
    expect(containerUser("", false)).toBe(NOBODY);
    expect(containerUser("root", false)).toBe(NOBODY);
    expect(containerUser("", true)).toBeUndefined();
  });
});

describe("what a viewer sees of a service", () => {
  const service: ServiceView = aServiceView({
    command: ["node", "/opt/secret-app-4711.js"],
    env: { API_KEY: "sk-very-secret-value", DEBUG: "1" },
    replicas: 1,
    instances: [
      {
        id: "r1",
        serviceId: "s1",
        state: "failed",
        health: "down",
        healthReason: null,
        dataAddr: "127.0.0.1:20000",
        adminAddr: "127.0.0.1:20001",
        runtime: "process",
        runtimeRef: "4242",
        adminState: "ready",
        weight: 100,
        inEngine: false,
        startedAt: null,
        lastError: "exited: Error: Cannot find module '/opt/secret-app-4711.js' (key sk-very-secret-value)",
      },
    ],
  });

  it("names without values, no command, no pid, and errors without the secret words", () => {
    const v = serviceViewFor("viewer", service);
    expect(v.env).toEqual({ API_KEY: "", DEBUG: "" });
    expect(v.command).toBeNull();
    expect(v.redacted).toBe(true);
    expect(v.instances[0].runtimeRef).toBeNull();
    expect(v.instances[0].lastError).toBe(`exited: Error: Cannot find module '${HIDDEN}' (key ${HIDDEN})`);
    expect(JSON.stringify(v)).not.toMatch(/sk-very-secret-value|secret-app-4711|4242/);
  });

  it("operators and admins see it whole", () => {
    expect(serviceViewFor("operator", service)).toBe(service);
    expect(serviceViewFor("admin", service)).toBe(service);
  });

  it("paths of this machine become names, longest first", () => {
    const hidden = { words: ["hunter22"], paths: [{ path: "/srv/sy/data", as: "$DATA_DIR" }, { path: "/srv/sy", as: "$PANEL_DIR" }] };
    expect(hideIn("stats socket /srv/sy/data/haproxy/admin.sock; cwd /srv/sy; pw hunter22", hidden)).toBe(`stats socket $DATA_DIR/haproxy/admin.sock; cwd $PANEL_DIR; pw ${HIDDEN}`);
  });
});
