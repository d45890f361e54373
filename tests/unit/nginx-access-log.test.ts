import { describe, expect, it } from "vitest";
import { AccessCounters, LATENCY_BUCKET_EDGES_MS, LATENCY_BUCKET_KEYS, latencyBucket, parseAccessLine } from "@/lib/engines/nginx/access-log";
import { MAX_LINE_BYTES, takeLines } from "@/lib/engines/nginx/log-tail";
import { LATENCY_BUCKETS_MS as BUILTIN_EDGES, LATENCY_BUCKET_KEYS as BUILTIN_KEYS } from "@/lib/engines/builtin/counters";

// A line of the access log as nginx 1.22 wrote it with the log_format before byte counts ("sy1", without its newline),
// still read from an nginx adopted with an older config; `line2` is today's ("sy2": bytes sent and received before the host).
const line = (fields: string) => `sy1|${fields}`;
const line2 = (fields: string) => `sy2|${fields}`;

describe("parseAccessLine", () => {
  it("parses a plain request", () => {
    expect(parseAccessLine(line("up_web|127.0.0.1:21700|200|0.004|0.005|200|web.local"))).toEqual({
      upstream: "up_web",
      attempts: [{ addr: "127.0.0.1:21700", status: 200, responseMs: 4, bytesSent: null, bytesReceived: null }],
      requestMs: 5,
      status: 200,
      host: "web.local",
      hasBytes: false,
    });
  });

  it("reads each try's bytes from an sy2 record, and keeps a host with '|' whole after them", () => {
    expect(parseAccessLine(line2("up_web|127.0.0.1:21700|200|0.004|0.005|200|97|312|web.local"))).toEqual({
      upstream: "up_web",
      attempts: [{ addr: "127.0.0.1:21700", status: 200, responseMs: 4, bytesSent: 97, bytesReceived: 312 }],
      requestMs: 5,
      status: 200,
      host: "web.local",
      hasBytes: true,
    });
    const retried = parseAccessLine(line2("up_web|127.0.0.1:1, 127.0.0.1:2|502, 200|0.001, 0.002|0.004|200|0, 97|0, 312|a|b"));
    expect(retried?.attempts.map((a) => [a.addr, a.bytesSent, a.bytesReceived])).toEqual([
      ["127.0.0.1:1", 0, 0],
      ["127.0.0.1:2", 97, 312],
    ]);
    expect(retried?.host).toBe("a|b");
    expect(parseAccessLine(line2("-|-|-|-|0.000|503|-|-|h"))).toMatchObject({ attempts: [], status: 503, host: "h", hasBytes: true });
    expect(parseAccessLine(line2("up_web|127.0.0.1:1|200|0.001|0.001|200|h"))).toBeNull(); // cut short: no bytes fields
  });

  it("accepts a line that ends in CRLF", () => {
    const rec = parseAccessLine(`${line("up_web|127.0.0.1:1|204|0.000|0.000|204|x")}\r`);
    expect(rec).toMatchObject({ attempts: [{ addr: "127.0.0.1:1", status: 204, responseMs: 0 }], host: "x" });
  });

  it("splits the per-try lists nginx writes on retries", () => {
    const rec = parseAccessLine(line("up_web|127.0.0.1:21701, 127.0.0.1:21702, 127.0.0.1:21700|502, 504, 200|0.001, 1.000, 0.012|1.015|200|h"));
    expect(rec?.attempts).toEqual([
      { addr: "127.0.0.1:21701", status: 502, responseMs: 1, bytesSent: null, bytesReceived: null },
      { addr: "127.0.0.1:21702", status: 504, responseMs: 1000, bytesSent: null, bytesReceived: null },
      { addr: "127.0.0.1:21700", status: 200, responseMs: 12, bytesSent: null, bytesReceived: null },
    ]);
  });

  it("splits internal redirects (' : ') too", () => {
    const rec = parseAccessLine(line("up_web|127.0.0.1:1 : 127.0.0.1:2|404 : 200|0.001 : 0.002|0.004|200|h"));
    expect(rec?.attempts.map((a) => [a.addr, a.status])).toEqual([
      ["127.0.0.1:1", 404],
      ["127.0.0.1:2", 200],
    ]);
  });

  it("handles requests nginx answered itself ('-')", () => {
    expect(parseAccessLine(line("-|-|-|-|0.000|503|h"))).toEqual({ upstream: null, attempts: [], requestMs: 0, status: 503, host: "h", hasBytes: false });
    // a client that went away before the server answered
    expect(parseAccessLine(line("up_web|127.0.0.1:1|-|-|0.300|499|h"))?.attempts).toEqual([{ addr: "127.0.0.1:1", status: null, responseMs: null, bytesSent: null, bytesReceived: null }]);
  });

  it("keeps a host with '|' whole (it is the last field)", () => {
    expect(parseAccessLine(line("up_web|127.0.0.1:1|200|0.001|0.001|200|a|b"))?.host).toBe("a|b");
  });

  it("refuses lines that are not access records (the engine counts them as lost)", () => {
    expect(parseAccessLine("hello")).toBeNull();
    expect(parseAccessLine("127.0.0.1 - - [22/Nov/2024:04:15:00 +0000] \"GET / HTTP/1.1\" 200 2")).toBeNull(); // nginx's combined format
    expect(parseAccessLine(" sy1|a|b|c|d|e|f|g")).toBeNull();
    expect(parseAccessLine(line("up_web|127.0.0.1:1"))).toBeNull(); // cut short
    expect(parseAccessLine("")).toBeNull();
  });
});

describe("AccessCounters", () => {
  const add = (c: AccessCounters, fields: string) => c.add(parseAccessLine(line(fields))!);

  it("counts the last try as the served request and earlier ones as retries elsewhere", () => {
    const c = new AccessCounters();
    add(c, "up|127.0.0.1:1|200|0.003|0.003|200|h");
    add(c, "up|127.0.0.1:2, 127.0.0.1:1|502, 200|0.000, 0.020|0.021|200|h");
    add(c, "up|127.0.0.1:2, 127.0.0.1:1|503, 503|0.001, 0.001|0.002|503|h");
    const a = c.get("127.0.0.1:1");
    expect(a.totalRequests).toBe(3);
    expect(a.responses).toEqual({ "1xx": 0, "2xx": 2, "3xx": 0, "4xx": 0, "5xx": 1, other: 0 });
    expect(a.retries).toBe(0);
    expect(a.connectionErrors).toBe(0);
    const b = c.get("127.0.0.1:2");
    expect(b.totalRequests).toBe(0);
    expect(b.retries).toBe(2);
    expect(b.redispatches).toBe(2);
    expect(b.connectionErrors).toBe(1); // the 502 (no usable answer); the real 503 counts as a response
    expect(b.responses["5xx"]).toBe(1);
  });

  it("fills latency buckets from the server's response time, else the request time", () => {
    const c = new AccessCounters();
    add(c, "up|127.0.0.1:1|200|0.001|0.009|200|h"); // 1 ms
    add(c, "up|127.0.0.1:1|200|0.030|0.031|200|h"); // 30 ms
    add(c, "up|127.0.0.1:1|200|12.000|12.0|200|h"); // 12 s
    add(c, "up|127.0.0.1:1|-|-|0.004|499|h"); // no server time: request time 4 ms
    const b = c.get("127.0.0.1:1").latencyBuckets;
    expect(b["1"]).toBe(1);
    expect(b["50"]).toBe(1);
    expect(b["+Inf"]).toBe(1);
    expect(b["5"]).toBe(1);
    expect(Object.values(b).reduce((x, y) => x + y, 0)).toBe(4);
    expect(c.get("127.0.0.1:1").responses.other).toBe(1);
  });

  it("adds up the bytes of every try on its server (sy2), and knows none from sy1 records", () => {
    const c = new AccessCounters();
    add(c, "up|127.0.0.1:1|200|0.003|0.003|200|h");
    expect(c.get("127.0.0.1:1")).toMatchObject({ bytesIn: null, bytesOut: null });
    expect(c.bytesCounted).toBe(false);
    c.add(parseAccessLine(line2("up|127.0.0.1:1|200|0.003|0.003|200|100|1000|h"))!);
    c.add(parseAccessLine(line2("up|127.0.0.1:2, 127.0.0.1:1|502, 200|0.000, 0.020|0.021|200|-, 120|-, 2000|h"))!);
    expect(c.get("127.0.0.1:1")).toMatchObject({ bytesIn: 220, bytesOut: 3000, totalRequests: 3 });
    expect(c.get("127.0.0.1:2")).toMatchObject({ bytesIn: 0, bytesOut: 0, retries: 1 }); // refused: it moved nothing
    expect(c.bytesCounted).toBe(true);
  });

  it("counts requests that reached no server apart", () => {
    const c = new AccessCounters();
    add(c, "-|-|-|-|0.000|503|h");
    add(c, "up_web|up_web|502|0.000|0.000|502|h"); // "no live upstreams": nginx logs the upstream name
    expect(c.unrouted).toBe(2);
    expect(c.records).toBe(2);
    expect(c.keys()).toEqual([]);
  });

  it("returns copies and zeros for unknown servers", () => {
    const c = new AccessCounters();
    add(c, "up|127.0.0.1:1|200|0.001|0.001|200|h");
    c.get("127.0.0.1:1").totalRequests = 99;
    expect(c.get("127.0.0.1:1").totalRequests).toBe(1);
    expect(c.get("127.0.0.1:9").totalRequests).toBe(0);
    expect(c.get("127.0.0.1:1").avgResponseMs).toBe(1);
  });
});

describe("latency buckets", () => {
  it("use the builtin engine's edges", () => {
    expect([...LATENCY_BUCKET_EDGES_MS]).toEqual([...BUILTIN_EDGES]);
    expect(LATENCY_BUCKET_KEYS).toEqual(BUILTIN_KEYS);
  });

  it("put a value in the first bucket whose bound is >= it", () => {
    expect(latencyBucket(0)).toBe("1");
    expect(latencyBucket(1)).toBe("1");
    expect(latencyBucket(1.001)).toBe("2");
    expect(latencyBucket(10_000)).toBe("10000");
    expect(latencyBucket(10_001)).toBe("+Inf");
  });
});

describe("takeLines", () => {
  const buf = (s: string) => Buffer.from(s, "utf8");

  it("returns complete lines and keeps the rest for the next chunk", () => {
    const a = takeLines(null, buf("one\ntwo\nthr"));
    expect(a.lines).toEqual(["one", "two"]);
    expect(a.rest?.toString()).toBe("thr");
    const b = takeLines(a.rest, buf("ee\nfour\n"));
    expect(b).toEqual({ lines: ["three", "four"], rest: null, cut: false });
  });

  it("joins a multi-byte character split across chunks", () => {
    const bytes = buf("h\u00e9\n");
    const a = takeLines(null, bytes.subarray(0, 2)); // 'h' and the first byte of the two of é
    expect(a.lines).toEqual([]);
    expect(takeLines(a.rest, bytes.subarray(2)).lines).toEqual(["h\u00e9"]);
  });

  it("keeps empty lines (they count as unparseable, not as nothing)", () => {
    expect(takeLines(null, buf("\n\nx\n")).lines).toEqual(["", "", "x"]);
  });

  it("cuts a rest longer than any record instead of growing without bound", () => {
    expect(takeLines(null, Buffer.alloc(MAX_LINE_BYTES + 1, "x"))).toEqual({ lines: [], rest: null, cut: true });
  });
});
