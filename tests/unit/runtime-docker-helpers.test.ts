import { describe, expect, it } from "vitest";
import { containerName } from "@/lib/runtime/container-name";
import { demuxDockerLog, formatLogLines } from "@/lib/runtime/docker-log";
import { describeExit } from "@/lib/runtime/exit-reason";
import { replicaEnv } from "@/lib/runtime/replica-env";

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

describe("demuxDockerLog", () => {
  it("splits frames into lines per stream, in order", () => {
    const buf = Buffer.concat([frame(1, "replica r1 data 127.0.0.1:21200\n"), frame(2, "warning: x\n"), frame(1, "second\n")]);
    expect(formatLogLines(demuxDockerLog(buf))).toEqual(["replica r1 data 127.0.0.1:21200", "stderr: warning: x", "second"]);
  });

  it("joins a line split over two frames and keeps a last line without newline", () => {
    const buf = Buffer.concat([frame(1, "hel"), frame(1, "lo\nwor"), frame(1, "ld")]);
    expect(demuxDockerLog(buf)).toEqual([
      { stream: "stdout", text: "hello" },
      { stream: "stdout", text: "world" },
    ]);
  });

  it("ignores a truncated header", () => {
    expect(demuxDockerLog(Buffer.from([1, 0, 0]))).toEqual([]);
  });
});

describe("containerName", () => {
  it("is sy-<service>-<id> for short ids", () => {
    expect(containerName("web", "r7fk2m")).toBe("sy-web-r7fk2m");
  });

  it("keeps the random end of long ids (cuids share their timestamp start)", () => {
    expect(containerName("web", "cmbx1q2w30000abcdefgh1234")).toBe("sy-web-efgh1234");
  });

  it("lowercases and replaces characters Docker or DNS would refuse", () => {
    expect(containerName("Web_App", "R.1")).toBe("sy-web-app-r-1");
  });

  it("stays a DNS label (63 characters at most)", () => {
    const name = containerName("a".repeat(70), "0123456789abcdef");
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^sy-a+-89abcdef$/);
  });
});

describe("describeExit", () => {
  it("names an OOM kill with the limit", () => {
    expect(describeExit({ exitCode: 137, oomKilled: true, memoryLimitMb: 64 })).toBe(
      "killed by the kernel: out of memory (it reached its memory limit of 64 MiB)",
    );
  });

  it("names the address already in use from Node's error in the log", () => {
    const logTail = ["stderr: Error: listen EADDRINUSE: address already in use 127.0.0.1:21105", "stderr:     at Server.setupListenHandle"];
    expect(describeExit({ exitCode: 1, oomKilled: false, logTail })).toBe(
      "could not listen: 127.0.0.1:21105 is already in use by another program",
    );
  });

  it("passes Docker's start error on", () => {
    expect(describeExit({ exitCode: 127, oomKilled: false, startError: 'exec: "nope": executable file not found in $PATH' })).toMatch(
      /^could not start: exec: "nope"/,
    );
  });

  it("explains signals and plain codes", () => {
    expect(describeExit({ exitCode: 137, oomKilled: false })).toBe("killed (SIGKILL, exit code 137)");
    expect(describeExit({ exitCode: 0, oomKilled: false })).toBe("exited normally (code 0)");
    expect(describeExit({ exitCode: 3, oomKilled: false })).toBe("exited with code 3");
    expect(describeExit({ exitCode: null, oomKilled: false })).toBe("not running (exit code unknown)");
  });
});

describe("replicaEnv", () => {
  it("adds the runtime's variables over the service's own", () => {
    const env = replicaEnv(
      {
        serviceId: "s1",
        serviceName: "web",
        replicaId: "r1",
        env: { GREETING: "hi", PORT: "1" },
        dataPort: 8000,
        adminPort: 9000,
        adminToken: "tok",
        memoryLimitMb: 128,
        cpuLimit: null,
      },
      { dataPort: 21100, adminPort: 21101, bindHost: "127.0.0.1" },
    );
    expect(env).toEqual({
      GREETING: "hi",
      PORT: "21100",
      ADMIN_PORT: "21101",
      ADMIN_TOKEN: "tok",
      REPLICA_ID: "r1",
      SERVICE_NAME: "web",
      MEMORY_LIMIT_MB: "128",
      BIND_HOST: "127.0.0.1",
    });
  });
});
