import { randomBytes } from "node:crypto";
import { keptInDataDir } from "@/lib/kept-in-data-dir";

/**
 * This panel's stable id, kept in DATA_DIR/panel-id. Containers carry it, so two
 * panels on one Docker engine never list or clean up each other's replicas.
 */
export function panelId(dataDir: string): string {
  return keptInDataDir(dataDir, "panel-id", { pattern: /^[a-z0-9]{12,32}$/, create: () => randomBytes(8).toString("hex"), mode: 0o644 });
}
