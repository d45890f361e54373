import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pageSize, readKernelFileSync, readProcStatSync, uptimeSeconds } from "@/lib/process/procfs";
import { parseVmRssBytes } from "@/lib/process/proc-stat";

// The readers the collector uses per replica per second (issue 18): synchronous, one reused buffer.
describe("readKernelFileSync", () => {
  it("reads a /proc file whole, as readFileSync does", () => {
    const text = readKernelFileSync("/proc/self/cmdline");
    expect(text).toBe(fs.readFileSync("/proc/self/cmdline", "latin1"));
  });

  it("reads a file longer than its buffer whole", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "procfs-read-")), "big");
    const body = "0123456789abcdef".repeat(5000) + "end"; // 80 KB, 5 buffers
    fs.writeFileSync(file, body);
    try {
      expect(readKernelFileSync(file)).toBe(body);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("is null for a file that is not there (a process gone)", () => {
    expect(readKernelFileSync("/proc/999999999/stat")).toBeNull();
    expect(readProcStatSync(999_999_999)).toBeNull();
  });
});

describe("RSS from /proc/<pid>/stat", () => {
  it("is the VmRSS of /proc/<pid>/status (pages times the page size)", async () => {
    const pageBytes = await pageSize();
    const fromStat = readProcStatSync(process.pid)!.rssPages * pageBytes;
    const fromStatus = parseVmRssBytes(fs.readFileSync(`/proc/${process.pid}/status`, "utf8"))!;
    // two reads a moment apart of a process that allocates: equal up to what it touched in between
    expect(Math.abs(fromStat - fromStatus)).toBeLessThan(4 * 1048576);
    expect(fromStat).toBeGreaterThan(10 * 1048576);
  });
});

describe("uptimeSeconds", () => {
  it("carried forward on the monotonic clock, it agrees with /proc/uptime", async () => {
    const read = () => Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    await uptimeSeconds(); // the read it carries forward from
    const before = read();
    const carried = (await uptimeSeconds())!;
    const after = read();
    // between the reads around it (/proc/uptime counts in 10 ms steps)
    expect(carried).toBeGreaterThanOrEqual(before - 0.02);
    expect(carried).toBeLessThanOrEqual(after + 0.02);
  });
});
