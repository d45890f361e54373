import type { Rules } from "@/lib/core/rules";
import { exampleCurl, type ListenerChoice } from "@/components/rules/routes-model";
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
  /** every listener of the balancer (name, port, protocol), for the reach commands */
  listeners?: ListenerChoice[];
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

/**
 * Where to send requests so they reach a service through the balancer: a curl command
 * per route, through the route's listener (its port; on https the name in the URL, with
 * --resolve and the panel's CA root), a *.wildcard host as an example name, never "*".
 */
export function reachCommands(listen: { host: string; port: number } | undefined, rules: Rules, listeners: readonly ListenerChoice[] | null = null): string[] {
  return rules.routes.map((r) => exampleCurl(r, listen ?? null, listeners));
}
