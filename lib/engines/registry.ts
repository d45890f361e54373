import fs from "node:fs";
import path from "node:path";
import { env } from "@/lib/env";
import { remember } from "@/lib/remember";
import type { Engine, EngineKind } from "@/lib/engines/types";
import { createHaproxyEngine } from "@/lib/engines/haproxy";
import { createBuiltinEngine } from "@/lib/engines/builtin";
import { createNginxEngine } from "@/lib/engines/nginx";
import { createTraefikEngine } from "@/lib/engines/traefik";

/** Is `bin` an executable on PATH (or an absolute path)? */
export function hasBinary(bin: string): boolean {
  const candidates = bin.includes("/") ? [bin] : (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":").concat(["/usr/sbin", "/sbin"]).map((d) => path.join(d, bin));
  return candidates.some((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** ENGINE=auto picks HAProxy when its binary is installed, else the builtin proxy. */
export function selectedEngineKind(): Exclude<EngineKind, "traefik"> {
  const cfg = env();
  if (cfg.ENGINE !== "auto") return cfg.ENGINE;
  return hasBinary(cfg.HAPROXY_BIN) ? "haproxy" : "builtin";
}

/** A new adapter for `kind` on this panel's data folder (`npm run stop` stops each kind); the panel itself uses engine(). */
export function engineOfKind(kind: EngineKind): Engine {
  const cfg = env();
  const listen = { host: cfg.HOST, port: cfg.BALANCER_PORT };
  switch (kind) {
    case "haproxy":
      return createHaproxyEngine({
        dataDir: cfg.dataDir,
        listen,
        binary: cfg.HAPROXY_BIN,
        mode: cfg.ENGINE_MODE,
        configPath: cfg.HAPROXY_CONFIG,
        masterSocket: cfg.HAPROXY_MASTER_SOCKET,
        runtimeSocket: cfg.HAPROXY_RUNTIME_SOCKET,
      });
    case "builtin":
      return createBuiltinEngine({ dataDir: cfg.dataDir, listen });
    case "nginx":
      return createNginxEngine({ dataDir: cfg.dataDir, listen, binary: cfg.NGINX_BIN, mode: cfg.ENGINE_MODE, configPath: cfg.NGINX_CONFIG });
    case "traefik":
      return createTraefikEngine();
  }
}

/** The engine the panel drives (one per process). */
export function engine(): Engine {
  return remember("engine", () => engineOfKind(selectedEngineKind()));
}

/** An engine object for rendering/export only (never started). */
export function engineForExport(kind: EngineKind): Engine {
  if (kind === engine().kind) return engine();
  return remember(`engine-export-${kind}`, () => engineOfKind(kind));
}
