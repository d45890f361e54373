import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * This panel's stable id, kept in DATA_DIR/panel-id. Containers carry it, so two
 * panels on one Docker engine never list or clean up each other's replicas.
 */
export function panelId(dataDir: string): string {
  const file = path.join(dataDir, "panel-id");
  try {
    const id = fs.readFileSync(file, "utf8").trim();
    if (/^[a-z0-9]{12,32}$/.test(id)) return id;
  } catch {
    /* first start */
  }
  const id = randomBytes(8).toString("hex");
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${id}\n`, { mode: 0o644 });
  return id;
}
