import { describe, expect, it } from "vitest";
import { HAPROXY_LOG_FORMAT, MAX_LOG_LINE, parseHaproxyLogLine, SequenceGaps, SETTLE_MS } from "@/lib/engines/haproxy/log-format";
import { HaproxyLogReceiver } from "@/lib/engines/haproxy/log-receiver";
import { renderHaproxy } from "@/lib/engines/haproxy/render";
import { percentileFromBuckets } from "@/lib/core/rates";
import { goldenConfigs, goldenRenderOptions } from "../fixtures/haproxy/configs";

describe("parseHaproxyLogLine", () => {
  it("reads a record as the rendered log-format writes it", () => {
    expect(parseHaproxyLogLine("sy1|4242|17|be_web|r-a1|200|301|305\n")).toEqual({
      pid: 4242,
      seq: 17,
      backend: "be_web",
      server: "r-a1",
      status: 200,
      responseMs: 301,
      totalMs: 305,
    });
  });

  it("reads a request that reached no server, and HAProxy's -1 as unknown", () => {
    expect(parseHaproxyLogLine("sy1|7|3|noroute|<NOSRV>|503|-1|0")).toMatchObject({ server: null, status: 503, responseMs: null, totalMs: 0 });
    expect(parseHaproxyLogLine("sy1|7|3|be_web|r-a1|-1|-1|-1")).toMatchObject({ status: null, responseMs: null, totalMs: null });
  });

  it("takes a request numbered before the sequence rule (a bad request) without a number", () => {
    expect(parseHaproxyLogLine("sy1|7||fe_main|<NOSRV>|400|-1|2")).toMatchObject({ seq: null, status: 400 });
    expect(parseHaproxyLogLine("sy1|7|-|fe_main|<NOSRV>|400|-1|2")).toMatchObject({ seq: null });
  });

  it("refuses hostile and foreign lines", () => {
    const hostile = [
      "",
      "\n",
      "hello",
      "sy1",
      "sy2|1|1|be_web|r-a|200|1|1",
      "sy1|1|1|be_web|r-a|200|1", // a field short
      "sy1|1|1|be_web|r-a|200|1|1|extra",
      "sy1|0|1|be_web|r-a|200|1|1", // pid 0
      "sy1|-5|1|be_web|r-a|200|1|1",
      "sy1|1|0|be_web|r-a|200|1|1", // numbers start at 1
      "sy1|1|1.5|be_web|r-a|200|1|1",
      "sy1|1|99999999999999999|be_web|r-a|200|1|1", // beyond a safe integer
      "sy1|1|1|be web|r-a|200|1|1",
      "sy1|1|1|be_web|r-a;rm -rf /|200|1|1",
      "sy1|1|1|be_web|<script>|200|1|1",
      "sy1|1|1||r-a|200|1|1",
      "sy1|1|1|be_web|r-a|2OO|1|1",
      "sy1|1|1|be_web|r-a|200|1e3|1",
      "sy1|1|1|be_web|r-a|200|NaN|1",
      "sy1|1|1|be_web|r-a|200|Infinity|1",
      "sy1|1|1|be_web|r-a|200|12345678901|1",
      "<134>Nov 29 02:30:00 haproxy[1]: sy1|1|1|be_web|r-a|200|1|1", // syslog header: not the raw format we ask for
      `sy1|1|1|be_web|${"a".repeat(MAX_LOG_LINE)}|200|1|1`,
      "sy1|1|1|be_web|r-a|200|1|1\nsy1|1|2|be_web|r-a|200|1|1", // two records in one datagram
      "sy1|1|1|be_web|r-a|200|1|1\u0000junk",
      "|".repeat(5000),
      `sy1|${"9".repeat(40)}|1|be_web|r-a|200|1|1`,
    ];
    for (const line of hostile) expect(parseHaproxyLogLine(line), JSON.stringify(line.slice(0, 80))).toBeNull();
    expect(parseHaproxyLogLine(undefined as unknown as string)).toBeNull();
  });

  it("is the format the renderer asks HAProxy for", () => {
    const text = renderHaproxy(goldenConfigs.defaults, goldenRenderOptions);
    expect(text).toContain(`log-format "${HAPROXY_LOG_FORMAT}"`);
    expect(text).toContain("log 127.0.0.1:11500 len 2048 format raw local0 info");
  });

  it("renders no request log without a target, and refuses a target off loopback", () => {
    const { requestLog: _omit, ...noLog } = goldenRenderOptions;
    void _omit;
    expect(renderHaproxy(goldenConfigs.defaults, noLog)).not.toContain("log-format");
    expect(() => renderHaproxy(goldenConfigs.defaults, { ...goldenRenderOptions, requestLog: { host: "10.0.0.1", port: 514 } })).toThrow(/loopback/);
    expect(() => renderHaproxy(goldenConfigs.defaults, { ...goldenRenderOptions, requestLog: { host: "127.0.0.1\n    log 10.0.0.1", port: 514 } })).toThrow(/loopback/);
    expect(() => renderHaproxy(goldenConfigs.defaults, { ...goldenRenderOptions, requestLog: { host: "127.0.0.1", port: 70000 } })).toThrow(/port/);
  });
});

describe("SequenceGaps", () => {
  it("counts a number that never arrives as lost, once a later one has been known for the settle time", () => {
    const g = new SequenceGaps();
    for (const s of [1, 2, 4, 5]) g.add(100, s, 0);
    g.settle(0);
    expect(g.lost).toBe(0); // 3 may still be on its way
    g.settle(SETTLE_MS);
    expect(g.lost).toBe(1);
  });

  it("takes a loss back when the number arrives late, and ignores duplicates", () => {
    const g = new SequenceGaps();
    for (const s of [1, 3]) g.add(100, s, 0);
    g.settle(0);
    g.settle(SETTLE_MS);
    expect(g.lost).toBe(1);
    g.add(100, 2, SETTLE_MS + 1);
    expect(g.lost).toBe(0);
    expect(g.late).toBe(1);
    g.add(100, 3, SETTLE_MS + 2);
    g.add(100, 2, SETTLE_MS + 3);
    expect(g.lost).toBe(0);
    expect(g.late).toBe(1);
  });

  it("keeps workers apart (a reload starts a new numbering) and does not count what came before the first number heard", () => {
    const g = new SequenceGaps();
    g.add(1, 500, 0); // adopted mid-stream: 1..499 are not ours
    g.add(1, 501, 0);
    g.add(2, 1, 0);
    g.add(2, 2, 0);
    g.settle(0);
    g.settle(SETTLE_MS);
    expect(g.lost).toBe(0);
  });

  it("takes an absurd jump (a forged number) as a gap of unknown size, not a million losses", () => {
    const g = new SequenceGaps();
    g.add(1, 1, 0);
    g.add(1, 50_000_000, 0);
    g.settle(0);
    g.settle(SETTLE_MS);
    expect(g.lost).toBe(0);
    expect(g.gaps).toBe(1);
  });
});

describe("HaproxyLogReceiver (no socket)", () => {
  it("puts each server's response times in the shared latency buckets and counts foreign datagrams", () => {
    const r = new HaproxyLogReceiver({ host: "127.0.0.1", port: 1 });
    for (let i = 1; i <= 100; i++) r.receiveText(`sy1|9|${i}|be_web|r-slow|200|${300 + (i % 7)}|${302 + (i % 7)}`, 0);
    for (let i = 101; i <= 200; i++) r.receiveText(`sy1|9|${i}|be_web|r-fast|200|${2 + (i % 3)}|${3 + (i % 3)}`, 0);
    r.receiveText("sy1|9|201|noroute|<NOSRV>|503|-1|0", 0);
    r.receiveText("GET / HTTP/1.1", 0);
    expect(r.records).toBe(201);
    expect(r.foreign).toBe(1);
    expect(percentileFromBuckets(r.latencyBuckets("web", "r-slow"), 0.95)).toBeGreaterThanOrEqual(250);
    expect(percentileFromBuckets(r.latencyBuckets("web", "r-fast"), 0.95)).toBeLessThan(100);
    expect(Object.values(r.latencyBuckets("web", "r-none")).every((v) => v === 0)).toBe(true);
    const feed = r.feed(SETTLE_MS * 3);
    expect(feed).toMatchObject({ records: 201, lost: 0, file: "udp://127.0.0.1:1" });
    expect(feed.detail).toMatch(/1 datagrams were not request records/);
  });
});

describe("SequenceGaps.unsettled", () => {
  it("is the count of numbers not judged yet, 0 once the settle time has passed", () => {
    const g = new SequenceGaps();
    for (const s of [1, 2, 3, 5]) g.add(1, s, 0);
    g.settle(0);
    expect(g.unsettled()).toBe(5); // 1..5, the missing 4 included
    g.settle(SETTLE_MS);
    expect(g.unsettled()).toBe(0);
    expect(g.lost).toBe(1);
  });
});
