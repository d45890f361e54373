import type { Rules } from "@/lib/core/rules";
import type { Capability, EngineCapabilities, EngineKind, StatsFeed } from "@/lib/engines/types";
import type { RevisionView } from "@/lib/services/apply-balancer-config";

/** What the Balancer page hands its components (serializable, from the server). */

export type EngineView = {
  kind: EngineKind;
  running: boolean;
  version?: string | null;
  mode?: "supervised" | "external" | "export-only";
  pid?: number | null;
  listen?: { host: string; port: number };
  location?: string;
  adopted?: boolean;
  ready?: boolean;
  error?: string | null;
  /** where per-replica counts come from when the panel derives them (nginx), and what was lost */
  statsFeed?: StatsFeed;
  capabilities: EngineCapabilities;
};

export type RouteView = {
  serviceId: string;
  name: string;
  rules: Rules;
  /** replicas in the engine, by admin state */
  servers: { ready: number; drain: number; maint: number };
  desiredReplicas: number | null;
};

/** A revision as GET /api/balancer/revisions lists it (a type-only import: nothing of the server is bundled). */
export type RevisionRow = RevisionView & { diff: string };

export type ExportTarget = {
  kind: EngineKind;
  label: string;
  format: string;
  /** options of today's rules this engine cannot express, per service */
  lost: { service: string; option: string; reason: string }[];
  notes: string[];
};

export type CapabilityRow = { capability: Capability; label: string; byEngine: Record<EngineKind, true | string> };

/** Where to send a request so it reaches a service through the listener. */
export function reachCommand(listen: { host: string; port: number } | undefined, rules: Rules): string {
  const host = !listen || listen.host === "0.0.0.0" || listen.host === "::" ? "127.0.0.1" : listen.host;
  const url = `http://${host}:${listen?.port ?? 8080}${rules.route.pathPrefix}`;
  return rules.route.host ? `curl -H 'Host: ${rules.route.host}' ${url}` : `curl ${url}`;
}
