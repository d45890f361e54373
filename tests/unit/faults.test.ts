/**
 * The pure parts of the faults that need nothing from the app (issue 14, item 2): what a
 * fault is called and how long it has left (the card), the stressor's arguments, where a
 * stressor joins a replica's cgroups, and which new service speaks the replica protocol.
 */
import { describe, expect, it } from "vitest";
import { describeFault, timeLeftText } from "@/lib/core/faults";
import { speaksReplicaProtocol } from "@/lib/core/service";
import { stressArgs } from "@/lib/faults/runtime-stress";
import { cgroupDirsOf, parseMountinfo, parseProcCgroup } from "@/lib/runtime/cgroup";
import { cpuCgroupDirs } from "@/lib/runtime/memory-cgroup";
import { emptyForm, formFromService, toCreateBody, toUpdateBody } from "@/components/services/service-form-model";
import { aServiceView } from "../helpers/service-view";

const MOUNTINFO = [
  "30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "31 25 0:27 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
  "32 25 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "33 25 0:29 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
  "34 25 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

describe("faults: words and time left", () => {
  it("names each kind with what it does", () => {
    expect(describeFault("pause", {})).toBe("pause");
    expect(describeFault("runtime-stress", { cpus: 2, memoryMb: 128, seconds: 60 })).toBe("runtime stress (2 CPU, 128 MB memory)");
    expect(describeFault("network-fault", { latencyMs: 200, errorRate: 0.25, reset: true, seconds: 5 })).toBe("network fault (200 ms latency, 25% errors, connection resets)");
  });

  it("counts the time left down to the second, then says it is ending", () => {
    const at = Date.parse("2026-01-01T00:00:00Z");
    const exp = (s: number) => new Date(at + s * 1000).toISOString();
    expect(timeLeftText(exp(300), at)).toBe("5:00 left");
    expect(timeLeftText(exp(299.2), at)).toBe("5:00 left");
    expect(timeLeftText(exp(59), at)).toBe("59 s left");
    expect(timeLeftText(exp(3661), at)).toBe("1:01:01 left");
    expect(timeLeftText(exp(0), at)).toBe("ending…");
    expect(timeLeftText(exp(-5), at)).toBe("ending…");
  });
});

describe("runtime stress", () => {
  it("asks stress-ng for CPU workers at full load and memory held without spinning, ending at the time limit", () => {
    expect(stressArgs({ cpus: 2 }, 30)).toEqual(["--timeout", "30s", "--quiet", "--temp-path", "/tmp", "--cpu", "2", "--cpu-load", "100"]);
    expect(stressArgs({ memoryMb: 64 }, 5)).toEqual(["--timeout", "5s", "--quiet", "--temp-path", "/tmp", "--vm", "1", "--vm-bytes", "64M", "--vm-keep", "--vm-hang", "0"]);
  });

  it("joins a container's own cgroup in every hierarchy it needs (v1), or its one v2 folder", () => {
    const id = "abc123";
    const lines = parseProcCgroup(`4:memory:/docker/${id}\n3:pids:/docker/${id}\n2:cpuacct:/docker/${id}\n1:cpu:/docker/${id}\n0::/\n`);
    expect(cgroupDirsOf(parseMountinfo(MOUNTINFO), lines, ["memory", "cpu", "cpuacct", "pids"])).toEqual({
      version: 1,
      dirs: [`/sys/fs/cgroup/memory/docker/${id}`, `/sys/fs/cgroup/cpu/docker/${id}`, `/sys/fs/cgroup/cpuacct/docker/${id}`, `/sys/fs/cgroup/pids/docker/${id}`],
    });
    const v2 = parseMountinfo("40 25 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    expect(cgroupDirsOf(v2, parseProcCgroup("0::/system.slice/docker-abc.scope\n"), ["memory", "cpu"])).toEqual({ version: 2, dirs: ["/sys/fs/cgroup/system.slice/docker-abc.scope"] });
  });

  it("puts a process replica's CPU cgroups beside the panel's own, one per cpu/cpuacct hierarchy; on v2 in its memory cgroup", () => {
    const own = parseProcCgroup("4:memory:/panel\n2:cpuacct:/\n1:cpu:/\n0::/\n");
    expect(cpuCgroupDirs(parseMountinfo(MOUNTINFO), own, "r1", { version: 1, base: "/sys/fs/cgroup/memory/panel/switchyard-replicas" })).toEqual([
      "/sys/fs/cgroup/cpu/switchyard-replicas/r1",
      "/sys/fs/cgroup/cpuacct/switchyard-replicas/r1",
    ]);
    expect(cpuCgroupDirs([], [], "r1", { version: 2, base: "/sys/fs/cgroup/switchyard-replicas" })).toEqual(["/sys/fs/cgroup/switchyard-replicas/r1"]);
  });
});

describe("replicaProtocol of a new service", () => {
  it("is true for the bundled replica app only", () => {
    const image = "switchyard/replica:latest";
    expect(speaksReplicaProtocol({ image: null, command: null }, image)).toBe(true);
    expect(speaksReplicaProtocol({ image, command: null }, image)).toBe(true);
    expect(speaksReplicaProtocol({ image: "todo:1", command: null }, image)).toBe(false);
    expect(speaksReplicaProtocol({ image: null, command: ["node", "app.js"] }, image)).toBe(false);
  });
});

describe("replicaProtocol in the service form", () => {
  it("is sent only when chosen at creation, and only when changed on edit", () => {
    const created = (v: ReturnType<typeof emptyForm>) => (toCreateBody(v) as { ok: true; body: Record<string, unknown> }).body;
    expect(created({ ...emptyForm(), name: "api" })).not.toHaveProperty("replicaProtocol");
    expect(created({ ...emptyForm(), name: "api", replicaProtocol: false })).toMatchObject({ replicaProtocol: false });
    const svc = aServiceView({ replicaProtocol: false });
    expect(toUpdateBody(formFromService(svc), svc)).toEqual({ ok: true, body: {} });
    expect(toUpdateBody({ ...formFromService(svc), replicaProtocol: true }, svc)).toEqual({ ok: true, body: { replicaProtocol: true } });
  });
});
