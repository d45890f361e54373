import fs from "node:fs";
import path from "node:path";
import { env } from "@/lib/env";
import { remember } from "@/lib/remember";
import type { EngineKind, Renderer, RunningEngine, RunningEngineKind } from "@/lib/engines/types";
import { engineRunAs } from "@/lib/engines/engine-user";
import { createHaproxyEngine, createHaproxyRenderer, type HaproxyEngineOptions } from "@/lib/engines/haproxy";
import { builtinRenderer, createBuiltinEngine } from "@/lib/engines/builtin";
import { createNginxEngine, createNginxRenderer, type NginxEngineOptions } from "@/lib/engines/nginx";
import { traefikRenderer } from "@/lib/engines/traefik";

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
export function selectedEngineKind(): RunningEngineKind {
  const cfg = env();
  if (cfg.ENGINE !== "auto") return cfg.ENGINE;
  return hasBinary(cfg.HAPROXY_BIN) ? "haproxy" : "builtin";
}

function haproxyOptions(): HaproxyEngineOptions {
  const cfg = env();
  return {
    dataDir: cfg.dataDir,
    listen: { host: cfg.HOST, port: cfg.BALANCER_PORT },
    binary: cfg.HAPROXY_BIN,
    mode: cfg.ENGINE_MODE,
    configPath: cfg.HAPROXY_CONFIG,
    masterSocket: cfg.HAPROXY_MASTER_SOCKET,
    runtimeSocket: cfg.HAPROXY_RUNTIME_SOCKET,
    // an external HAProxy's users are its own business; a supervised one's workers are never root
    runAs: cfg.ENGINE_MODE === "supervised" ? engineRunAs(cfg.ENGINE_USER) : null,
  };
}

function nginxOptions(): NginxEngineOptions {
  const cfg = env();
  return { dataDir: cfg.dataDir, listen: { host: cfg.HOST, port: cfg.BALANCER_PORT }, binary: cfg.NGINX_BIN, mode: cfg.ENGINE_MODE, configPath: cfg.NGINX_CONFIG };
}

/** A new adapter for `kind` on this panel's data folder (`npm run stop` stops each kind); the panel itself uses engine(). */
export function engineOfKind(kind: RunningEngineKind): RunningEngine {
  const cfg = env();
  switch (kind) {
    case "haproxy":
      return createHaproxyEngine(haproxyOptions());
    case "builtin":
      return createBuiltinEngine({
        dataDir: cfg.dataDir,
        listen: { host: cfg.HOST, port: cfg.BALANCER_PORT },
        workers: cfg.BUILTIN_WORKERS,
        upstreamConnections: cfg.BUILTIN_UPSTREAM_CONNECTIONS,
      });
    case "nginx":
      return createNginxEngine(nginxOptions());
  }
}

/** The engine the panel drives (one per process). */
export function engine(): RunningEngine {
  return remember("engine", () => engineOfKind(selectedEngineKind()));
}

/**
 * The renderer of `kind` for exports, built from this panel's configuration without an
 * adapter. The running engine's kind renders through the running engine itself, so an
 * export shows what it runs (nginx's replicas the prober took out are `down`).
 */
export function renderer(kind: EngineKind): Renderer {
  const running = engine();
  if (kind === running.kind) return running;
  switch (kind) {
    case "haproxy":
      return remember("renderer-haproxy", () => createHaproxyRenderer(haproxyOptions()));
    case "nginx":
      return remember("renderer-nginx", () => createNginxRenderer(nginxOptions()));
    case "builtin":
      return builtinRenderer;
    case "traefik":
      return traefikRenderer;
  }
}
