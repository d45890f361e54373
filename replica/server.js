"use strict";
/*
 * Switchyard replica: a small, dependency-free demo app and the reference
 * implementation of the replica admin protocol (docs/replica-protocol.md).
 *
 * Two listeners:
 *   data port  (PORT)        what the balancer sends traffic to: /, /work, /health
 *   admin port (ADMIN_PORT)  the management plane, bearer token: stress, faults, clear, info
 *
 * Plain CommonJS on purpose: the image is made from the host's node binary and
 * this one file, with no npm install step.
 */
const http = require("node:http");
const os = require("node:os");
const fs = require("node:fs");
const crypto = require("node:crypto");
const v8 = require("node:v8");
const vm = require("node:vm");
const { Worker } = require("node:worker_threads");
const { URL } = require("node:url");

const MiB = 1024 * 1024;
const LIMITS = {
  workMs: 5000,
  workKb: 10240,
  stressMb: 4096, // per call, and the most held at once
  cpuSeconds: 300,
  latencyMs: 60000,
  bodyBytes: 64 * 1024,
  shutdownMs: 10000,
};
// Buffers of this size are always mmap()ed by glibc (above its 32 MiB dynamic
// threshold), so freeing them returns the memory to the OS and RSS drops. Only
// the bytes we fill become resident.
const CHUNK_BYTES = 64 * MiB;

// ---------------------------------------------------------------- configuration

function fail(message) {
  console.error(`replica: ${message}`);
  process.exit(1);
}

function intEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) fail(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) fail(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

const config = {
  port: intEnv("PORT", 8080, 1, 65535),
  adminPort: intEnv("ADMIN_PORT", 9090, 1, 65535),
  bindHost: process.env.BIND_HOST || "127.0.0.1",
  adminToken: process.env.ADMIN_TOKEN || "",
  id: process.env.REPLICA_ID || os.hostname(),
  service: process.env.SERVICE_NAME || "replica",
  envLimitMb: intEnv("MEMORY_LIMIT_MB", 0, 1, 1048576) || null,
  thresholdPercent: intEnv("MEMORY_THRESHOLD_PERCENT", 80, 1, 100),
  // a "bad version" for rollouts: this share of data requests fails from the start (the errorRate fault, set at start)
  errorRatePercent: intEnv("ERROR_RATE", 0, 0, 100),
  errorStatus: intEnv("ERROR_STATUS", 500, 500, 504),
  // after SIGTERM, keep serving this long with /health answering 503 before closing the listeners, so a balancer that
  // learns of the stop late (a Swarm task leaves Docker's DNS at its stop; HAProxy re-resolves each second) drains it
  // instead of finding a closed port. 0 (the default): close at once, for runtimes that drain the balancer first.
  shutdownDelayMs: intEnv("SHUTDOWN_DELAY_MS", 0, 0, 60000),
};
if (config.port === config.adminPort) fail(`PORT and ADMIN_PORT must differ (both ${config.port})`);

// ---------------------------------------------------------------- memory figures

const CGROUP_LIMIT_FILES = [
  "/sys/fs/cgroup/memory.max", // cgroup v2
  "/sys/fs/cgroup/memory/memory.limit_in_bytes", // cgroup v1
];

/** The container's memory limit in bytes, or null when there is none. */
function readCgroupLimitBytes() {
  for (const file of CGROUP_LIMIT_FILES) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8").trim();
    } catch {
      continue;
    }
    if (text === "max") return null;
    const bytes = Number(text);
    // v1 reports "no limit" as a huge number (about 2^63); a limit above the
    // host's memory limits nothing either.
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= 2 ** 60 || bytes > os.totalmem()) return null;
    return bytes;
  }
  return null;
}

let limitCache = { at: 0, mb: 256, source: "default" };

/**
 * The limit /health judges against: the cgroup limit when there is one, else
 * MEMORY_LIMIT_MB, else 256. When both exist the smaller wins. Re-read every 2 s
 * so `docker update --memory` is seen.
 */
function memoryLimit() {
  const now = Date.now();
  if (now - limitCache.at < 2000) return limitCache;
  const cgroupBytes = readCgroupLimitBytes();
  const cgroupMb = cgroupBytes === null ? null : cgroupBytes / MiB;
  let mb = 256;
  let source = "default";
  if (cgroupMb !== null && (config.envLimitMb === null || cgroupMb <= config.envLimitMb)) {
    mb = cgroupMb;
    source = "cgroup";
  } else if (config.envLimitMb !== null) {
    mb = config.envLimitMb;
    source = "env";
  }
  limitCache = { at: now, mb, source };
  return limitCache;
}

const round1 = (n) => Math.round(n * 10) / 10;

function memoryFigures() {
  const rssMb = process.memoryUsage.rss() / MiB;
  const limit = memoryLimit();
  const percent = (rssMb / limit.mb) * 100;
  return {
    rssMb: round1(rssMb),
    limitMb: round1(limit.mb),
    limitSource: limit.source,
    thresholdPercent: config.thresholdPercent,
    percent: round1(percent),
    overThreshold: percent >= config.thresholdPercent,
  };
}

// ---------------------------------------------------------------- state

const startedAt = Date.now();
const counters = { requests: 0, errors: 0, adminRequests: 0 };
const faults = { latencyMs: 0, errorRate: config.errorRatePercent / 100, failHealth: false };
const stress = {
  chunks: [], // { buf, mb }
  memoryMb: 0,
  cpuWorker: null,
  cpuUntil: null, // epoch ms
};

/** Runs a full GC if we can; exposes V8's gc() at run time when --expose-gc was not given. */
function collectGarbage() {
  if (typeof global.gc !== "function") {
    try {
      v8.setFlagsFromString("--expose-gc");
      global.gc = vm.runInNewContext("gc");
    } catch {
      return false;
    }
  }
  if (typeof global.gc !== "function") return false;
  global.gc();
  return true;
}

/** Allocates `mb` more MiB of resident memory, in slices so the event loop keeps turning. */
async function holdMemory(mb) {
  let left = mb * MiB;
  while (left > 0) {
    const fill = Math.min(left, CHUNK_BYTES);
    const buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    buf.fill(0xa5, 0, fill); // touch the pages so RSS (and the cgroup) really grows
    stress.chunks.push({ buf, mb: fill / MiB });
    stress.memoryMb += fill / MiB;
    left -= fill;
    await new Promise((r) => setImmediate(r));
  }
}

function releaseMemory() {
  const released = stress.memoryMb;
  stress.chunks = [];
  stress.memoryMb = 0;
  return released;
}

const CPU_BURNER = `
const { workerData } = require("node:worker_threads");
let x = 0;
while (Date.now() < workerData.until) { for (let i = 0; i < 1e6; i++) x = (x * 31 + i) % 1000003; }
`;

function startCpu(seconds) {
  stopCpu();
  const until = Date.now() + seconds * 1000;
  const worker = new Worker(CPU_BURNER, { eval: true, workerData: { until } });
  worker.unref();
  const done = () => {
    if (stress.cpuWorker === worker) {
      stress.cpuWorker = null;
      stress.cpuUntil = null;
    }
  };
  worker.on("exit", done);
  worker.on("error", done);
  stress.cpuWorker = worker;
  stress.cpuUntil = until;
  return until;
}

function stopCpu() {
  const worker = stress.cpuWorker;
  if (!worker) return false;
  stress.cpuWorker = null;
  stress.cpuUntil = null;
  worker.terminate().catch(() => {});
  return true;
}

function clearFaults() {
  const had = faults.latencyMs !== 0 || faults.errorRate !== 0 || faults.failHealth;
  faults.latencyMs = 0;
  faults.errorRate = 0;
  faults.failHealth = false;
  return had;
}

// ---------------------------------------------------------------- http helpers

let shuttingDown = false;

function send(res, status, body, extraHeaders) {
  const isBuffer = Buffer.isBuffer(body);
  const payload = isBuffer ? body : Buffer.from(JSON.stringify(body));
  const headers = {
    "Content-Type": isBuffer ? "text/plain; charset=utf-8" : "application/json",
    "Content-Length": payload.length,
    "Cache-Control": "no-store",
    ...extraHeaders,
  };
  if (shuttingDown) headers.Connection = "close";
  res.writeHead(status, headers);
  res.end(payload);
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Reads a JSON object body (empty body = {}), at most 64 KiB. */
function readJsonBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (part) => {
      size += part.length;
      if (size > LIMITS.bodyBytes) tooLarge = true;
      else parts.push(part);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (tooLarge) return reject(new HttpError(413, `body larger than ${LIMITS.bodyBytes} bytes`));
      const text = Buffer.concat(parts).toString("utf8").trim();
      if (text === "") return resolve({});
      let value;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return reject(new HttpError(400, `body is not valid JSON: ${e.message}`));
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return reject(new HttpError(400, "body must be a JSON object"));
      }
      resolve(value);
    });
  });
}

function onlyKeys(body, allowed) {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new HttpError(400, `unknown field "${key}" (allowed: ${allowed.join(", ")})`);
  }
}

function numberField(body, key, { min, max, integer, required }) {
  const v = body[key];
  if (v === undefined) {
    if (required) throw new HttpError(400, `"${key}" is required`);
    return undefined;
  }
  if (typeof v !== "number" || !Number.isFinite(v)) throw new HttpError(400, `"${key}" must be a number`);
  if (integer && !Number.isInteger(v)) throw new HttpError(400, `"${key}" must be a whole number`);
  if (v < min || v > max) throw new HttpError(400, `"${key}" must be between ${min} and ${max}, got ${v}`);
  return v;
}

function queryInt(url, key, cap) {
  const raw = url.searchParams.get(key);
  if (raw === null || raw === "") return 0;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `query "${key}" must be a whole number >= 0, got "${raw}"`);
  return Math.min(Number(raw), cap);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Burns about `ms` of CPU in 10 ms slices, so concurrent requests (and /health) share the core. */
async function burnCpu(ms) {
  let left = ms;
  let x = 0;
  while (left > 0) {
    const slice = Math.min(left, 10);
    const end = process.hrtime.bigint() + BigInt(Math.round(slice * 1e6));
    while (process.hrtime.bigint() < end) x = (x * 31 + 7) % 1000003;
    left -= slice;
    if (left > 0) await new Promise((r) => setImmediate(r));
  }
  return x;
}

// ---------------------------------------------------------------- data port

function healthBody() {
  const m = memoryFigures();
  const body = { replica: config.id, rssMb: m.rssMb, limitMb: m.limitMb, percent: m.percent, thresholdPercent: m.thresholdPercent, status: "ok" };
  let reason = null;
  if (faults.failHealth) reason = "failHealth fault is set";
  else if (m.overThreshold) {
    reason = `memory ${m.rssMb} MB is ${m.percent}% of the ${m.limitMb} MB limit (threshold ${config.thresholdPercent}%)`;
  }
  if (reason !== null) {
    body.status = "unhealthy";
    body.reason = reason;
  }
  return { healthy: reason === null, body };
}

async function handleData(req, res) {
  const url = new URL(req.url || "/", "http://replica");
  if (url.pathname === "/health") {
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "use GET /health");
    if (shuttingDown) return send(res, 503, { status: "stopping", replica: config.id });
    const { healthy, body } = healthBody();
    return send(res, healthy ? 200 : 503, body);
  }

  counters.requests++;
  if (faults.latencyMs > 0) await sleep(faults.latencyMs);
  if (faults.errorRate > 0 && Math.random() < faults.errorRate) {
    counters.errors++;
    return send(res, config.errorStatus, { error: "injected fault (errorRate)", replica: config.id });
  }

  if (url.searchParams.has("headers")) {
    // what the balancer told the replica about the client: any path, with ?headers
    const h = req.headers;
    return send(res, 200, {
      replica: config.id,
      service: config.service,
      path: req.url,
      host: h.host ?? null,
      forwarded: { proto: h["x-forwarded-proto"] ?? null, host: h["x-forwarded-host"] ?? null, for: h["x-forwarded-for"] ?? null, realIp: h["x-real-ip"] ?? null },
    });
  }
  if (url.pathname === "/") {
    return send(res, 200, {
      replica: config.id,
      hostname: os.hostname(),
      service: config.service,
      requests: counters.requests,
      pid: process.pid,
      path: req.url,
    });
  }
  if (url.pathname === "/work") {
    const ms = queryInt(url, "ms", LIMITS.workMs);
    const kb = queryInt(url, "kb", LIMITS.workKb);
    await burnCpu(ms);
    if (kb > 0) return send(res, 200, Buffer.alloc(kb * 1024, "x"));
    return send(res, 200, { replica: config.id, ms, kb: 0 });
  }
  // Which replica of which service received which target: a balancer's routing and
  // prefix stripping can be checked on any path, not only on the ones served here.
  return send(res, 404, { error: `no such path: ${url.pathname}`, replica: config.id, service: config.service, path: req.url });
}

// ---------------------------------------------------------------- admin port

function tokenMatches(header) {
  if (!config.adminToken) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header || "");
  if (!m) return false;
  // Compare digests: equal length whatever the input, and constant time.
  const given = crypto.createHash("sha256").update(m[1].trim()).digest();
  const expected = crypto.createHash("sha256").update(config.adminToken).digest();
  return crypto.timingSafeEqual(given, expected);
}

function info() {
  const m = memoryFigures();
  const heapMb = process.memoryUsage().heapUsed / MiB;
  return {
    replica: config.id,
    service: config.service,
    pid: process.pid,
    hostname: os.hostname(),
    uptimeS: Math.round((Date.now() - startedAt) / 1000),
    healthy: healthBody().healthy,
    memory: {
      rssMb: m.rssMb,
      heapMb: round1(heapMb),
      limitMb: m.limitMb,
      limitSource: m.limitSource,
      thresholdPercent: m.thresholdPercent,
      percent: m.percent,
    },
    stress: {
      memoryMb: stress.memoryMb,
      cpuUntil: stress.cpuUntil === null ? null : new Date(stress.cpuUntil).toISOString(),
    },
    faults: { ...faults },
    counters: { ...counters },
  };
}

const adminRoutes = {
  "POST /admin/stress/memory": async (body) => {
    onlyKeys(body, ["mb"]);
    const mb = numberField(body, "mb", { min: 1, max: LIMITS.stressMb, integer: true, required: true });
    if (stress.memoryMb + mb > LIMITS.stressMb) {
      throw new HttpError(400, `would hold ${stress.memoryMb + mb} MB, above the ${LIMITS.stressMb} MB maximum (holding ${stress.memoryMb} MB)`);
    }
    try {
      await holdMemory(mb);
    } catch (e) {
      throw new HttpError(500, `allocation failed after holding ${stress.memoryMb} MB: ${e.message}`);
    }
    return { memoryMb: stress.memoryMb, rssMb: memoryFigures().rssMb };
  },
  "POST /admin/stress/cpu": async (body) => {
    onlyKeys(body, ["seconds"]);
    const seconds = numberField(body, "seconds", { min: 1, max: LIMITS.cpuSeconds, integer: true, required: true });
    const until = startCpu(seconds);
    return { seconds, cpuUntil: new Date(until).toISOString() };
  },
  "POST /admin/faults": async (body) => {
    onlyKeys(body, ["latencyMs", "errorRate", "failHealth"]);
    const latencyMs = numberField(body, "latencyMs", { min: 0, max: LIMITS.latencyMs, integer: true });
    const errorRate = numberField(body, "errorRate", { min: 0, max: 1 });
    if (body.failHealth !== undefined && typeof body.failHealth !== "boolean") {
      throw new HttpError(400, `"failHealth" must be true or false`);
    }
    if (latencyMs !== undefined) faults.latencyMs = latencyMs;
    if (errorRate !== undefined) faults.errorRate = errorRate;
    if (body.failHealth !== undefined) faults.failHealth = body.failHealth;
    return { faults: { ...faults } };
  },
  "POST /admin/clear": async (body) => {
    onlyKeys(body, []);
    const rssBefore = process.memoryUsage.rss();
    const releasedMb = releaseMemory();
    const stoppedCpu = stopCpu();
    const clearedFaults = clearFaults();
    const gc = collectGarbage();
    // V8 frees large backing stores shortly after the collection: give RSS up to
    // 500 ms to show it, so the figure returned is the one /health will see.
    const target = rssBefore - releasedMb * MiB * 0.9;
    for (let waited = 0; gc && releasedMb > 0 && waited < 500 && process.memoryUsage.rss() > target; waited += 25) {
      await sleep(25);
    }
    return { releasedMb, stoppedCpu, clearedFaults, gc, rssMb: memoryFigures().rssMb };
  },
  "GET /admin/info": async () => info(),
};

async function handleAdmin(req, res) {
  counters.adminRequests++;
  if (!tokenMatches(req.headers.authorization)) {
    req.resume();
    const error = config.adminToken ? "missing or wrong bearer token" : "admin API disabled: ADMIN_TOKEN is not set";
    return send(res, 401, { error }, { "WWW-Authenticate": 'Bearer realm="switchyard-replica"' });
  }
  const url = new URL(req.url || "/", "http://replica");
  const route = adminRoutes[`${req.method} ${url.pathname}`];
  if (!route) {
    req.resume();
    const methods = ["GET", "POST"].filter((m) => adminRoutes[`${m} ${url.pathname}`]);
    if (methods.length > 0) throw new HttpError(405, `use ${methods.join(" or ")} ${url.pathname}`);
    throw new HttpError(404, `no such admin path: ${url.pathname}`);
  }
  const body = req.method === "POST" ? await readJsonBody(req) : (req.resume(), {});
  return send(res, 200, await route(body));
}

// ---------------------------------------------------------------- servers

let inFlight = 0;

function serve(handler) {
  return http.createServer((req, res) => {
    inFlight++;
    res.on("close", () => {
      inFlight--;
      if (shuttingDown) maybeExit();
    });
    res.setHeader("X-Replica", config.id);
    handler(req, res).catch((e) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (status >= 500) {
        counters.errors++;
        console.error(`replica ${config.id}: ${req.method} ${req.url}: ${e.stack || e}`);
      }
      if (res.headersSent) return res.destroy();
      send(res, status, { error: e.message });
    });
  });
}

collectGarbage(); // expose gc() now, so the first clear does not pay for it
const dataServer = serve(handleData);
const adminServer = serve(handleAdmin);
dataServer.on("upgrade", wsEcho);

/**
 * A minimal WebSocket echo on any path, so balancers' upgrades can be checked end to end:
 * each text frame (client frames are masked; up to 64 KiB) comes back as
 * "<service> <request target> <text>"; a close frame is answered and the socket ends.
 */
function wsEcho(req, socket) {
  const key = req.headers["sec-websocket-key"];
  if (String(req.headers.upgrade).toLowerCase() !== "websocket" || typeof key !== "string") return socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
  const accept = require("node:crypto").createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Replica: ${config.id}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const frame = (opcode, payload) => {
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]);
    return Buffer.concat([head, payload]);
  };
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0] & 15;
      let len = buf[1] & 127;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) return socket.destroy(); // larger than this echo takes
      const masked = (buf[1] & 128) !== 0;
      if (buf.length < at + (masked ? 4 : 0) + len) return;
      const mask = masked ? buf.subarray(at, at + 4) : null;
      at += masked ? 4 : 0;
      const payload = Buffer.from(buf.subarray(at, at + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      buf = buf.subarray(at + len);
      if (opcode === 8) return socket.end(frame(8, Buffer.alloc(0)));
      if (opcode === 1) socket.write(frame(1, Buffer.from(`${config.service} ${req.url} ${payload.toString("utf8")}`)));
    }
  });
}
dataServer.keepAliveTimeout = 65000; // longer than balancers' idle timeouts

function listen(server, port, name) {
  return new Promise((resolve) => {
    server.once("error", (e) => fail(`cannot listen on ${config.bindHost}:${port} (${name}): ${e.message}`));
    server.listen(port, config.bindHost, resolve);
  });
}

Promise.all([listen(dataServer, config.port, "PORT"), listen(adminServer, config.adminPort, "ADMIN_PORT")]).then(() => {
  const limit = memoryLimit();
  console.log(
    `replica ${config.id} (service ${config.service}, pid ${process.pid}) data ${config.bindHost}:${config.port} ` +
      `admin ${config.bindHost}:${config.adminPort} memory limit ${round1(limit.mb)} MB (${limit.source}) ` +
      `threshold ${config.thresholdPercent}%${config.adminToken ? "" : " (admin API disabled: no ADMIN_TOKEN)"}`,
  );
});

// ---------------------------------------------------------------- shutdown

let exitTimer = null;
// set once the listeners are closing: until then (the SHUTDOWN_DELAY_MS window) an idle moment is no reason to exit
let closing = false;

function maybeExit() {
  if (!closing || inFlight > 0) return;
  clearTimeout(exitTimer);
  console.log(`replica ${config.id}: stopped`);
  process.exit(0);
}

function closeListeners() {
  closing = true;
  for (const server of [dataServer, adminServer]) {
    server.close();
    server.closeIdleConnections();
  }
  exitTimer = setTimeout(() => {
    console.log(`replica ${config.id}: ${inFlight} request(s) still open after ${LIMITS.shutdownMs} ms, exiting`);
    for (const server of [dataServer, adminServer]) server.closeAllConnections();
    process.exit(0);
  }, LIMITS.shutdownMs);
  exitTimer.unref();
  maybeExit();
}

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  stopCpu();
  if (config.shutdownDelayMs > 0) {
    console.log(`replica ${config.id}: ${signal}, /health answers 503; serving ${config.shutdownDelayMs} ms more before closing`);
    // a second signal (the runtime's impatience, or a user's ^C) closes at once
    const now = () => {
      clearTimeout(delay);
      if (!closing) closeListeners();
    };
    const delay = setTimeout(now, config.shutdownDelayMs);
    process.once("SIGTERM", now);
    process.once("SIGINT", now);
    return;
  }
  console.log(`replica ${config.id}: ${signal}, finishing ${inFlight} request(s)`);
  closeListeners();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

// ---------------------------------------------------------------- exit with the parent (tests)
// EXIT_WITH_PARENT=1 (the test helpers set it; never a runtime of the panel's, whose replicas
// outlive a panel restart): when the process that started this one dies, the kernel gives it a
// new parent, so a changed parent pid means the test that owned it was killed mid-run; exit
// rather than hold its ports. A separate watchdog, apart from the SIGTERM handling above.
function exitWithParent() {
  if (process.env.EXIT_WITH_PARENT !== "1") return;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    console.log(`replica ${config.id}: its parent ${parent} is gone, exiting`);
    process.exit(0);
  }, 500);
  watch.unref();
}
exitWithParent();
