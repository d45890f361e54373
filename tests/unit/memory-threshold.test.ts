/**
 * Issue 12, item 9: the memory threshold is a setting of the service (validated 10-99 %,
 * the same schema in the form and the API), reaches the replica through its environment,
 * and the process runtime decides from the machine's cgroups where replica memory
 * cgroups go, or why there are none (pure parts here; tests/integration/memory-threshold.test.ts
 * runs real replicas).
 */
import { describe, expect, it } from "vitest";
import { createServiceSchema, envSchema, MEMORY_THRESHOLD, memoryThresholdSchema, updateServiceSchema } from "@/lib/core/service";
import { emptyForm, formFromService, toCreateBody, toUpdateBody } from "@/components/services/service-form-model";
import { replicaEnv } from "@/lib/runtime/replica-env";
import { parseMountinfo, parseProcCgroup } from "@/lib/runtime/cgroup";
import { placeForReplicas } from "@/lib/runtime/memory-cgroup";
import type { ReplicaSpec } from "@/lib/runtime/types";
import { aServiceView } from "@/tests/helpers/service-view";
import { memoryThresholdOf } from "@/lib/db/rows";

describe("the memory threshold setting", () => {
  it("accepts whole percentages from 10 to 99 and refuses the rest", () => {
    expect(MEMORY_THRESHOLD).toEqual({ min: 10, max: 99, default: 80 });
    for (const ok of [10, 50, 80, 99]) expect(memoryThresholdSchema.safeParse(ok).success, String(ok)).toBe(true);
    for (const bad of [9, 0, -5, 100, 150, 80.5, Number.NaN, "80", null]) expect(memoryThresholdSchema.safeParse(bad).success, String(bad)).toBe(false);
    expect(memoryThresholdSchema.safeParse(9).error?.issues[0].message).toBe("at least 10 %");
    expect(memoryThresholdSchema.safeParse(100).error?.issues[0].message).toBe("at most 99 %");
  });

  it("is optional on create (the use case stores 80) and on update, and checked in both", () => {
    const base = { name: "api" };
    expect(createServiceSchema.parse(base).memoryThresholdPercent).toBeUndefined();
    expect(createServiceSchema.parse({ ...base, memoryThresholdPercent: 65 }).memoryThresholdPercent).toBe(65);
    expect(createServiceSchema.safeParse({ ...base, memoryThresholdPercent: 100 }).success).toBe(false);
    expect(updateServiceSchema.parse({ memoryThresholdPercent: 90 })).toEqual({ memoryThresholdPercent: 90 });
    expect(updateServiceSchema.safeParse({ memoryThresholdPercent: 5 }).success).toBe(false);
  });

  it("is no longer a variable a service sets: Switchyard sets MEMORY_THRESHOLD_PERCENT", () => {
    const r = envSchema.safeParse({ MEMORY_THRESHOLD_PERCENT: "70" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toMatch(/set by Switchyard: .*MEMORY_THRESHOLD_PERCENT/);
  });

  it("the form sends it when it is not the default, and reports a bad value on its field", () => {
    const form = { ...emptyForm(), name: "api" };
    expect(form.memoryThresholdPercent).toBe("80");
    const plain = toCreateBody(form);
    expect(plain.ok && plain.body.memoryThresholdPercent).toBe(undefined);
    const set = toCreateBody({ ...form, memoryThresholdPercent: "65" });
    expect(set).toMatchObject({ ok: true, body: { memoryThresholdPercent: 65 } });
    for (const bad of ["5", "100", "7.5", "lots"]) {
      const r = toCreateBody({ ...form, memoryThresholdPercent: bad });
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(Object.keys(r.errors), bad).toEqual(["memoryThresholdPercent"]);
    }
  });

  it("the edit form shows the stored value and sends it only when changed", () => {
    const svc = aServiceView({ memoryThresholdPercent: 70 });
    const form = formFromService(svc);
    expect(form.memoryThresholdPercent).toBe("70");
    expect(toUpdateBody(form, svc)).toEqual({ ok: true, body: {} });
    expect(toUpdateBody({ ...form, memoryThresholdPercent: "90" }, svc)).toEqual({ ok: true, body: { memoryThresholdPercent: 90 } });
    const bad = toUpdateBody({ ...form, memoryThresholdPercent: "0" }, svc);
    expect(bad.ok).toBe(false);
  });

  it("a stored row is checked once, where rows are parsed: a hand-edited value out of range says so", () => {
    expect(memoryThresholdOf({ name: "web", memoryThresholdPercent: 75 })).toBe(75);
    expect(() => memoryThresholdOf({ name: "web", memoryThresholdPercent: 5 })).toThrow(/memory threshold of 5 % for service web: at least 10 %/);
    expect(() => memoryThresholdOf({ name: "web", memoryThresholdPercent: 100 })).toThrow(/at most 99 %/);
  });

  it("reaches the replica as MEMORY_THRESHOLD_PERCENT; a spec without one leaves the replica's own default", () => {
    const spec: ReplicaSpec = { serviceId: "s", serviceName: "api", replicaId: "r1", env: {}, dataPort: 8000, adminPort: 9000, adminToken: "t", memoryLimitMb: 128, cpuLimit: null };
    const where = { dataPort: 1, adminPort: 2, bindHost: "127.0.0.1" };
    expect(replicaEnv({ ...spec, memoryThresholdPercent: 65 }, where).MEMORY_THRESHOLD_PERCENT).toBe("65");
    expect("MEMORY_THRESHOLD_PERCENT" in replicaEnv(spec, where)).toBe(false);
    // a service variable of that name (from before the setting) cannot override it
    expect(replicaEnv({ ...spec, env: { MEMORY_THRESHOLD_PERCENT: "5" }, memoryThresholdPercent: 65 }, where).MEMORY_THRESHOLD_PERCENT).toBe("65");
  });
});

const HYBRID_MOUNTS = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");
const V2_MOUNTS = "30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot";

describe("where replica memory cgroups go", () => {
  it("cgroup v1 (hybrid machines too): inside the panel's own memory cgroup", () => {
    const own = parseProcCgroup("9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n");
    expect(placeForReplicas(parseMountinfo(HYBRID_MOUNTS), own)).toEqual({ version: 1, parent: "/sys/fs/cgroup/memory/process_api/abc" });
  });

  it("cgroup v2: beside the panel's own cgroup (a v2 cgroup with processes cannot have controlled children), or under the root", () => {
    const mounts = parseMountinfo(V2_MOUNTS);
    expect(placeForReplicas(mounts, parseProcCgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/panel.service\n"))).toEqual({
      version: 2,
      parent: "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice",
    });
    expect(placeForReplicas(mounts, parseProcCgroup("0::/\n"))).toEqual({ version: 2, parent: "/sys/fs/cgroup" });
  });

  it("no memory controller mounted: none, with the reason", () => {
    const mounts = parseMountinfo("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd");
    expect(placeForReplicas(mounts, parseProcCgroup("1:name=systemd:/\n"))).toEqual({ version: null, reason: "no cgroup memory controller is mounted here" });
  });
});
