import { describe, expect, it } from "vitest";
import { cgroupFilesOf, parseLimit, parseMountinfo, parseProcCgroup, statValue } from "@/lib/runtime/cgroup";

const ID = "396b53ef84e367ddc1949f0ca8196e1ded44ef83901960301b4a237cb4fc5ddb";

// A hybrid v1 host (Debian 12 VM, dockerd 20.10 with the cgroupfs driver).
const MOUNTINFO_V1 = `22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

const CGROUP_V1 = `9:name=systemd:/docker/${ID}
4:memory:/docker/${ID}
2:cpuacct:/docker/${ID}
1:cpu:/docker/${ID}
0::/docker/${ID}`;

// A pure v2 host with the systemd driver.
const MOUNTINFO_V2 = `30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;
const CGROUP_V2 = `0::/system.slice/docker-${ID}.scope`;

describe("parseMountinfo", () => {
  it("reads root, mount point, type and super options, optional tags included", () => {
    const mounts = parseMountinfo(MOUNTINFO_V2);
    expect(mounts).toEqual([
      { root: "/", mountPoint: "/sys/fs/cgroup", fsType: "cgroup2", superOptions: ["rw", "nsdelegate", "memory_recursiveprot"] },
    ]);
  });

  it("unescapes octal escapes in paths", () => {
    const [m] = parseMountinfo("40 31 0:38 /a\\040b /mnt/x\\040y rw - tmpfs tmpfs rw");
    expect(m.root).toBe("/a b");
    expect(m.mountPoint).toBe("/mnt/x y");
  });
});

describe("parseProcCgroup", () => {
  it("reads v1 controllers and the v2 line", () => {
    const lines = parseProcCgroup(CGROUP_V1);
    expect(lines).toContainEqual({ controllers: ["memory"], path: `/docker/${ID}` });
    expect(lines).toContainEqual({ controllers: [], path: `/docker/${ID}` });
    expect(lines).toContainEqual({ controllers: ["name=systemd"], path: `/docker/${ID}` });
  });
});

describe("cgroupFilesOf", () => {
  it("uses the v1 memory and cpuacct hierarchies on a hybrid host", () => {
    expect(cgroupFilesOf(parseMountinfo(MOUNTINFO_V1), parseProcCgroup(CGROUP_V1))).toEqual({
      version: 1,
      memoryDir: `/sys/fs/cgroup/memory/docker/${ID}`,
      cpuacctDir: `/sys/fs/cgroup/cpuacct/docker/${ID}`,
    });
  });

  it("uses the unified hierarchy on a v2 host", () => {
    expect(cgroupFilesOf(parseMountinfo(MOUNTINFO_V2), parseProcCgroup(CGROUP_V2))).toEqual({
      version: 2,
      dir: `/sys/fs/cgroup/system.slice/docker-${ID}.scope`,
    });
  });

  it("handles a combined cpu,cpuacct mount", () => {
    const mounts = parseMountinfo(`35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct`);
    const files = cgroupFilesOf(mounts, parseProcCgroup(`5:memory:/docker/${ID}\n3:cpu,cpuacct:/docker/${ID}`));
    expect(files).toEqual({ version: 1, memoryDir: `/sys/fs/cgroup/memory/docker/${ID}`, cpuacctDir: `/sys/fs/cgroup/cpu,cpuacct/docker/${ID}` });
  });

  it("maps a path through a mount whose root is a sub-tree (the panel in a cgroup namespace)", () => {
    const mounts = parseMountinfo("30 24 0:26 /outer /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    expect(cgroupFilesOf(mounts, parseProcCgroup(`0::/outer/docker/${ID}`))).toEqual({ version: 2, dir: `/sys/fs/cgroup/docker/${ID}` });
  });

  it("is null when our mounts do not show the process's cgroup", () => {
    const mounts = parseMountinfo("30 24 0:26 /mine /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    expect(cgroupFilesOf(mounts, parseProcCgroup(`0::/docker/${ID}`))).toBeNull();
    expect(cgroupFilesOf([], parseProcCgroup(CGROUP_V1))).toBeNull();
  });
});

describe("statValue and parseLimit", () => {
  it("reads one key of a stat file, not a key that merely ends the same", () => {
    const stat = "inactive_file 4096\ntotal_inactive_file 8192\nrss 100\n";
    expect(statValue(stat, "inactive_file")).toBe(4096);
    expect(statValue(stat, "total_inactive_file")).toBe(8192);
    expect(statValue(stat, "missing")).toBeNull();
  });

  it("reads a limit, and no limit as null", () => {
    expect(parseLimit("134217728\n")).toBe(134217728);
    expect(parseLimit("max\n")).toBeNull();
    expect(parseLimit("9223372036854771712\n")).toBeNull();
  });
});
