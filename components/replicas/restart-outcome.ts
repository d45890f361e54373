import type { ReplicaView } from "@/lib/services/views";
import { stateLook, type DisplayState } from "@/components/replicas/replica-state";

/** The line under a replica's actions. */
export type Outcome = { tone: "ok" | "warn" | "error" | "busy"; text: string };

/** A restart the card follows: the process start time it had, and whether it was seen restarting since. */
export type RestartWatch = { from: string | null; sawStarting: boolean };

/**
 * What a restart has come to, from the replica as the panel sees it now. The API
 * answers as soon as the restart begins; the replica then leaves rotation, restarts
 * (state "starting", a new start time) and comes back once healthy, so the line says
 * "restarting" until then and the replica's true state after: "back in rotation", or
 * what keeps it out (maint, drain, its health check). Pure.
 */
export function restartOutcome(watch: RestartWatch, replica: Pick<ReplicaView, "state" | "startedAt" | "lastError">, state: DisplayState): Outcome {
  if (replica.state === "failed") return { tone: "error", text: `the replica did not come back from its restart${replica.lastError ? `: ${replica.lastError}` : ""}` };
  const restarted = watch.sawStarting || replica.startedAt !== watch.from;
  if (replica.state === "starting" || !restarted) return { tone: "busy", text: "restarting: out of rotation, restarting, back once healthy…" };
  if (state === "in-rotation") return { tone: "ok", text: "restarted: back in rotation" };
  if (state === "checking") return { tone: "busy", text: "restarted: waiting for its first health check to rejoin the rotation…" };
  const look = stateLook[state];
  return { tone: "warn", text: `restarted, but not in rotation: ${look.label} (${look.explain})` };
}
