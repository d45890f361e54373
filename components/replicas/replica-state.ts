import type { HealthStatus, ReplicaTick } from "@/lib/core/metrics";
import { checkPending } from "@/lib/core/health-events";
import { isClusterRuntime } from "@/lib/core/service";
import type { ReplicaView } from "@/lib/services/views";
import type { Tone } from "@/components/ui/badge";

/**
 * What a replica card says about a replica, from the controller's view (state,
 * admin state, in the engine or not) and the last tick (health as the engine
 * sees it). Pure, so the card, the tests' data attributes and the progress
 * steps agree.
 */
export type DisplayState = "starting" | "checking" | "in-rotation" | "draining" | "stopping" | "down" | "maint" | "drain" | "failed";

export const stateLook: Record<DisplayState, { label: string; tone: Tone; explain: string }> = {
  starting: { label: "starting", tone: "blue", explain: "started by the controller; joins the balancer once it passes its health check" },
  checking: { label: "checking", tone: "blue", explain: "in the balancer, waiting for its first health check; joins the rotation once it passes" },
  "in-rotation": { label: "in rotation", tone: "green", explain: "the balancer sends it traffic" },
  draining: { label: "draining", tone: "amber", explain: "leaving: no new requests, in-flight ones finish, then it stops" },
  stopping: { label: "stopping", tone: "amber", explain: "drained; its process is stopping" },
  down: { label: "down", tone: "red", explain: "the balancer took it out of rotation because its health check fails" },
  maint: { label: "maint", tone: "violet", explain: "maintenance: taken out of rotation by an operator" },
  drain: { label: "drain", tone: "amber", explain: "drain set by an operator: no new requests, sticky sessions finish" },
  failed: { label: "failed", tone: "red", explain: "could not start or crashed; the controller replaces it" },
};

export function displayState(r: ReplicaView, tick: ReplicaTick | undefined): DisplayState {
  if (r.state === "failed") return "failed";
  if (r.state === "draining") return "draining";
  if (r.state === "stopping") return "stopping";
  if (r.state === "starting") return "starting";
  if (r.adminState === "maint") return "maint";
  if (r.adminState === "drain") return "drain";
  // in the engine but not yet checked: HAProxy's INI, or a tick from before the engine had it
  // (the collector gives a replica outside the engine its state as the reason)
  // a Swarm task is never in the panel's engine: its service's own balancer (on the overlay) serves it
  // nor a Kubernetes pod: the cluster's Service serves it while its EndpointSlice says ready
  const served = r.inEngine || isClusterRuntime(r.runtime);
  if (tick) return tick.inRotation ? "in-rotation" : served && (checkPending(tick.health) || tick.health.reason === "starting") ? "checking" : "down";
  if (served && (r.health === "up" || r.health === "nocheck")) return "in-rotation";
  return served && checkPending({ status: r.health as HealthStatus, reason: r.healthReason }) ? "checking" : "down";
}

export function isTransitioning(r: ReplicaView): boolean {
  return r.state === "starting" || r.state === "draining" || r.state === "stopping";
}

export type Step = { label: string; status: "done" | "active" | "todo" };

/** starting → healthy → in rotation; draining → stopped. Null for a replica that is not moving. */
export function progressSteps(r: ReplicaView): Step[] | null {
  if (r.state === "starting") {
    // the controller fills the addresses once the runtime started it, sets inEngine once it passed /health
    const at = !r.dataAddr ? 0 : !r.inEngine ? 1 : 2;
    const labels = ["starting", "healthy", "in rotation"];
    return labels.map((label, i) => ({ label: i === 1 && at === 1 ? "waiting for /health" : label, status: i < at ? "done" : i === at ? "active" : "todo" }));
  }
  if (r.state === "draining" || r.state === "stopping") {
    const at = r.state === "draining" ? 0 : 1;
    return ["draining", "stopped"].map((label, i) => ({ label: i === 1 && at === 1 ? "stopping" : label, status: i < at ? "done" : i === at ? "active" : "todo" }));
  }
  return null;
}

export function formatUptime(startedAt: string | null, now: number): string {
  if (!startedAt) return "–";
  const s = Math.max(0, Math.floor((now - Date.parse(startedAt)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A pid stays as is; a container id is shortened to 12 characters like `docker ps`. */
export function shortRef(ref: string | null): string {
  if (!ref) return "–";
  return /^[0-9a-f]{24,}$/.test(ref) ? ref.slice(0, 12) : ref;
}
