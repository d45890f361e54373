"use strict";
// Minimal replica (grows into the reference of docs/replica-protocol.md).
const http = require("node:http");
const os = require("node:os");

const PORT = Number(process.env.PORT || 8080);
const BIND_HOST = process.env.BIND_HOST || "127.0.0.1";
const REPLICA_ID = process.env.REPLICA_ID || os.hostname();
const SERVICE_NAME = process.env.SERVICE_NAME || "replica";
const LIMIT_MB = Number(process.env.MEMORY_LIMIT_MB || 256);
let requests = 0;

const server = http.createServer((req, res) => {
  requests++;
  res.setHeader("X-Replica", REPLICA_ID);
  res.setHeader("Content-Type", "application/json");
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/health") {
    const rssMb = process.memoryUsage().rss / 1048576;
    res.end(JSON.stringify({ replica: REPLICA_ID, rssMb, limitMb: LIMIT_MB, percent: (rssMb / LIMIT_MB) * 100, status: "ok" }));
    return;
  }
  res.end(JSON.stringify({ replica: REPLICA_ID, hostname: os.hostname(), service: SERVICE_NAME, requests, pid: process.pid }));
});
server.listen(PORT, BIND_HOST, () => console.log(`replica ${REPLICA_ID} data ${BIND_HOST}:${PORT}`));
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
