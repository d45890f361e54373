import { AppError } from "@/lib/core/errors";
import type { RuntimeReplica } from "./types";

/**
 * The per-replica lifecycle of the Runtime port (create/stop/remove/restart one replica) for a
 * runtime whose replicas a cluster schedules (a Deployment's pods, a Swarm service's tasks):
 * each refuses, saying why; such a runtime scales the service instead.
 */
export function refusedReplicaLifecycle(kind: string, why: string) {
  const refuse = (what: string): never => {
    throw new AppError("unsupported", `the ${kind} runtime does not ${what} one replica: ${why}`);
  };
  return {
    async create(): Promise<RuntimeReplica> {
      return refuse("create");
    },
    async stop(): Promise<void> {
      refuse("stop");
    },
    async remove(): Promise<void> {
      refuse("remove");
    },
    async restart(): Promise<RuntimeReplica> {
      return refuse("restart");
    },
  };
}
