/**
 * Picks the Runtime adapter from configuration: one adapter per kind per process
 * (remembered on globalThis, so server.ts and Next's route bundles share it, with its
 * event watcher and caches).
 */
import path from "node:path";
import type { Env } from "@/lib/env";
import { remember } from "@/lib/remember";
import { createDockerRuntime } from "./docker";
import type { PortRange } from "./ports";
import { createProcessRuntime } from "./process";
import type { Runtime, RuntimeKind } from "./types";

export type RuntimeSettings = {
  dataDir: string;
  portRange: PortRange;
  process?: {
    /** argv when a service has no command, e.g. [process.execPath, "/abs/replica/server.js"] */
    defaultCommand: string[];
    cwd?: string;
  };
  docker?: {
    socketPath?: string;
    /** DOCKER_HOST: unix:///path or tcp://host:port */
    dockerHost?: string;
    /** "host" or a bridge network name */
    network: string;
    defaultImage?: string;
  };
};

/**
 * The adapter for `kind`. The first call per kind creates it from `settings`; later
 * calls return the same instance (settings are read once, like the rest of the config).
 */
export function getRuntime(kind: RuntimeKind, settings: RuntimeSettings): Runtime {
  switch (kind) {
    case "process":
      return remember("runtime.process", () =>
        createProcessRuntime({
          dataDir: settings.dataDir,
          portRange: settings.portRange,
          defaultCommand: settings.process?.defaultCommand ?? [],
          cwd: settings.process?.cwd,
        }),
      );
    case "docker":
      return remember("runtime.docker", () =>
        createDockerRuntime({
          dataDir: settings.dataDir,
          portRange: settings.portRange,
          socketPath: settings.docker?.socketPath,
          dockerHost: settings.docker?.dockerHost,
          network: settings.docker?.network ?? "host",
          defaultImage: settings.docker?.defaultImage,
        }),
      );
  }
}

/**
 * Settings from the parsed configuration: replicas of the process runtime run the
 * bundled replica app (replica/server.js under `appRoot`) with the panel's own node.
 */
export function runtimeSettingsFromEnv(
  env: Pick<Env, "dataDir" | "PORT_RANGE" | "DOCKER_HOST" | "DOCKER_NETWORK" | "REPLICA_IMAGE">,
  appRoot: string = process.cwd(),
): RuntimeSettings {
  return {
    dataDir: env.dataDir,
    portRange: env.PORT_RANGE,
    process: { defaultCommand: [process.execPath, path.join(appRoot, "replica", "server.js")], cwd: appRoot },
    docker: { dockerHost: env.DOCKER_HOST, network: env.DOCKER_NETWORK, defaultImage: env.REPLICA_IMAGE },
  };
}
