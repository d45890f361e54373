import path from "node:path";
import { env } from "@/lib/env";
import { remember } from "@/lib/remember";
import { panelId } from "@/lib/panel-id";
import type { Runtime, RuntimeKind } from "@/lib/runtime/types";
import { createProcessRuntime } from "@/lib/runtime/process";
import { createDockerRuntime } from "@/lib/runtime/docker";

/** The replica app that the demo service (and any service without a command) runs. */
export function replicaAppPath(): string {
  return path.resolve(process.cwd(), "replica", "server.js");
}

/** One runtime adapter per kind per process. */
export function runtimeFor(kind: RuntimeKind): Runtime {
  const cfg = env();
  if (kind === "process") {
    return remember("runtime-process", () =>
      createProcessRuntime({ dataDir: cfg.dataDir, portRange: cfg.PORT_RANGE, defaultCommand: [process.execPath, replicaAppPath()], user: cfg.REPLICA_USER }),
    );
  }
  return remember("runtime-docker", () => {
    const host = cfg.DOCKER_HOST;
    return createDockerRuntime({
      ...(host && host.startsWith("unix://") ? { socketPath: host.slice("unix://".length) } : host ? { dockerHost: host } : {}),
      network: cfg.DOCKER_NETWORK,
      portRange: cfg.PORT_RANGE,
      defaultImage: cfg.REPLICA_IMAGE,
      panelId: panelId(cfg.dataDir),
    });
  });
}
