import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import next from "next";
import { env } from "@/lib/env";
import { attachRealtime } from "@/lib/realtime/server";
import { allowedOrigins, panelHostNames } from "@/lib/auth/origin";
import { bootstrap, shutdown } from "@/lib/bootstrap";
import { writePidFile } from "@/lib/process/pid-file";
import { isApiPath, NO_STORE, securityHeaders, securityHeadersFor } from "@/lib/security-headers";

/**
 * The panel's one process: Next.js handler + socket.io on one port, and the
 * controller loop. The engine and replicas are separate processes that keep
 * serving when this one stops; on start, the controller adopts them.
 */
async function main() {
  const cfg = env();
  const dev = cfg.NODE_ENV === "development";
  const app = next({ dev, hostname: cfg.HOST, port: cfg.PORT, dir: path.resolve(__dirname) });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgrade = app.getUpgradeHandler();

  const headers = securityHeaders(dev);
  const server = http.createServer((req, res) => {
    // The remote address as seen by this server, for throttling and audit; never trust a client-sent copy.
    req.headers["x-switchyard-remote"] = req.socket.remoteAddress ?? "unknown";
    req.headers["x-switchyard-path"] = req.url ?? "/"; // so sign-in can return to the page asked for (lib/auth/page.ts)
    for (const [name, value] of Object.entries(isApiPath(req.url) ? securityHeadersFor(req.url, dev) : headers)) res.setHeader(name, value);
    if (isApiPath(req.url)) for (const [name, value] of Object.entries(NO_STORE)) res.setHeader(name, value);
    void handle(req, res);
  });
  attachRealtime(server, { allowedOrigins: allowedOrigins(cfg), hostNames: panelHostNames(cfg) });
  server.on("upgrade", (req, socket, head) => {
    if (req.url?.startsWith("/socket.io")) return; // socket.io handles its own
    void upgrade(req, socket, head);
  });

  await bootstrap();

  // `npm run stop` finds the panel by this file (and stops it before the balancer and replicas)
  const pidFile = path.join(cfg.dataDir, "panel.pid");
  await writePidFile(pidFile);
  server.listen(cfg.PORT, cfg.HOST, () => {
    console.log(`[switchyard] panel on http://${cfg.HOST}:${cfg.PORT} (${dev ? "dev" : "production"}), data in ${cfg.dataDir}`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[switchyard] ${signal}: stopping the panel`);
    server.close();
    await shutdown().catch((e) => console.error(e));
    fs.rmSync(pidFile, { force: true });
    console.log(
      [
        `[switchyard] the panel stopped. The balancer (http://${cfg.HOST}:${cfg.BALANCER_PORT}) and the replicas keep serving,`,
        `[switchyard] so traffic goes on and the next start adopts them. To stop everything this data folder runs:`,
        `[switchyard]   ${cfg.DATA_DIR === "./data" ? "" : `DATA_DIR=${cfg.DATA_DIR} `}npm run stop`,
      ].join("\n"),
    );
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
