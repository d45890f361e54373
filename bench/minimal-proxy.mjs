// The yardstick of the builtin proxy (bench/throughput.ts): about the least a Node reverse
// proxy can do. http.request through one keep-alive Agent, round robin, no features.
//   node bench/minimal-proxy.mjs <listenPort> <upstreamPort> [<upstreamPort>...]
import http from "node:http";
import process from "node:process";
const [listen, ...upstreams] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let next = 0;
http
  .createServer((req, res) => {
    const port = upstreams[next++ % upstreams.length];
    const up = http.request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  })
  .listen(listen, "127.0.0.1");
