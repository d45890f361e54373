/**
 * Each engine's facts, held once: how the panel names it, the file its config is
 * exported as, the name of its own config check, what it can do, the notes shown
 * next to it, whether the panel runs it and whether the panel's prober checks
 * health for it. Pure data: components import it (the adapters that do the I/O are
 * in each engine's folder, picked by lib/engines/registry.ts).
 */
import type { EngineCapabilities, EngineKind } from "@/lib/engines/types";
import { builtinCapabilities } from "@/lib/engines/builtin/capabilities";
import { haproxyCapabilities } from "@/lib/engines/haproxy/capabilities";
import { NGINX_NOTES, nginxCapabilities } from "@/lib/engines/nginx/capabilities";
import { EXPORT_ONLY, TRAEFIK_NOTES, traefikCapabilities } from "@/lib/engines/traefik/capabilities";

export type EngineDescriptor = {
  kind: EngineKind;
  /** the engine's name in titles and tables, e.g. "Builtin proxy" */
  label: string;
  /** the short name on the export download, e.g. "Builtin" */
  exportLabel: string;
  /** what the export download holds, in words: "haproxy.cfg", "JSON" */
  format: string;
  /** extension of an exported config file, without the dot */
  fileExtension: string;
  contentType: string;
  /** the engine's own check of a config, as the rules editor names it: "haproxy -c" */
  checkName: string;
  capabilities: EngineCapabilities;
  /** how the engine carries out the rules where it differs, keyed by capability or topic */
  notes: Readonly<Record<string, string>>;
  /** true when the panel runs it (check, apply, reload, stats), else why not */
  runs: true | string;
  /** no active health checks of its own: the panel's prober checks each replica and reports failing ones (RunningEngine.setProbeDown) */
  panelProbes: boolean;
};

/** Every engine, in the order the UI lists them. */
export const ENGINE_KINDS = ["haproxy", "nginx", "builtin", "traefik"] as const satisfies readonly EngineKind[];

export const engineDescriptors: { readonly [K in EngineKind]: EngineDescriptor & { kind: K } } = {
  haproxy: {
    kind: "haproxy",
    label: "HAProxy",
    exportLabel: "HAProxy",
    format: "haproxy.cfg",
    fileExtension: "cfg",
    contentType: "text/plain",
    checkName: "haproxy -c",
    capabilities: haproxyCapabilities,
    notes: {},
    runs: true,
    panelProbes: false,
  },
  nginx: {
    kind: "nginx",
    label: "nginx",
    exportLabel: "nginx",
    format: "nginx.conf",
    fileExtension: "conf",
    contentType: "text/plain",
    checkName: "nginx -t",
    capabilities: nginxCapabilities,
    notes: NGINX_NOTES,
    runs: true,
    panelProbes: true,
  },
  builtin: {
    kind: "builtin",
    label: "Builtin proxy",
    exportLabel: "Builtin",
    format: "JSON",
    fileExtension: "json",
    contentType: "application/json",
    checkName: "the builtin proxy's config check",
    capabilities: builtinCapabilities,
    notes: {},
    runs: true,
    panelProbes: false,
  },
  traefik: {
    kind: "traefik",
    label: "Traefik",
    exportLabel: "Traefik",
    format: "YAML",
    fileExtension: "yaml",
    contentType: "application/yaml",
    checkName: "Traefik",
    capabilities: traefikCapabilities,
    notes: TRAEFIK_NOTES,
    runs: `${EXPORT_ONLY}; download the YAML or the Docker labels instead`,
    panelProbes: false,
  },
};

/** The descriptor of `kind`, or undefined for a name that is no engine (a revision row's text). */
export function descriptorOf(kind: string): EngineDescriptor | undefined {
  return Object.hasOwn(engineDescriptors, kind) ? engineDescriptors[kind as EngineKind] : undefined;
}
