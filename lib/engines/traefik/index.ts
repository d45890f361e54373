import type { BalancerConfig, Renderer } from "@/lib/engines/types";
import { traefikCapabilities } from "@/lib/engines/traefik/capabilities";
import { renderTraefik } from "@/lib/engines/traefik/render";

export { renderTraefik, renderTraefikDockerLabels, traefikDynamicConfig } from "@/lib/engines/traefik/render";
export { EXPORT_ONLY, TRAEFIK_NOTES, traefikCapabilities } from "@/lib/engines/traefik/capabilities";

/**
 * Traefik as an export target: a renderer only. render() gives file-provider dynamic
 * configuration for Traefik v3; Switchyard does not run, check or reload Traefik, so
 * Traefik has no RunningEngine (lib/engines/descriptors.ts: `runs: false`).
 */
export const traefikRenderer = {
  kind: "traefik" as const,
  capabilities: traefikCapabilities,
  render: (config: BalancerConfig): string => renderTraefik(config),
} satisfies Renderer;
