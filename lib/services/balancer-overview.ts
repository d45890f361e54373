import { z } from "zod";
import { AppError } from "@/lib/core/errors";
import { capabilitiesExcept } from "@/lib/engines/capabilities";
import { shownConfig, type EngineKind } from "@/lib/engines/types";
import { engineDescriptors, ENGINE_KINDS } from "@/lib/engines/descriptors";
import { engine as panelEngine, renderer } from "@/lib/engines/registry";
import { controller } from "@/lib/controller/controller";
import { currentBalancerConfig } from "@/lib/db/balancer-config";
import { currentRevisionNumber } from "@/lib/services/apply-balancer-config";

/** GET /api/balancer: the engine, where it runs, its live config and the current revision. */
export async function balancerOverview() {
  const engine = panelEngine();
  const status = await engine.status().catch((e: Error) => ({ kind: engine.kind, running: false, error: e.message }));
  return {
    engine: { ...status, kind: engine.kind, capabilities: engine.capabilities, ...controller().engineState() },
    revision: await currentRevisionNumber(),
    config: await currentBalancerConfig(),
    live: await engine
      .liveConfig()
      .then((text) => (text === null ? null : shownConfig(engine, text)))
      .catch(() => null),
  };
}

export const exportEngines = ENGINE_KINDS;

/** GET /api/balancer/export?engine=: which engine to render for (haproxy when absent). */
export const exportQuerySchema = z.object({ engine: z.enum(exportEngines).default("haproxy") });

/** GET /api/balancer/export?engine=…: the current configuration rendered for any engine, secrets replaced by a placeholder. */
export async function exportConfig(kind: EngineKind): Promise<{ text: string; filename: string; contentType: string }> {
  const config = await currentBalancerConfig();
  const engine = renderer(kind);
  let text: string;
  try {
    text = shownConfig(engine, engine.render(config));
  } catch (e) {
    throw new AppError("unsupported", `cannot render for ${kind}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { fileExtension, contentType } = engineDescriptors[kind];
  return { text, filename: `switchyard-${kind}.${fileExtension}`, contentType };
}

export function allCapabilities() {
  return capabilitiesExcept();
}
