import { randomBytes } from "node:crypto";
import { keptInDataDir } from "@/lib/kept-in-data-dir";

/**
 * This panel's secret for sticky-session cookies (HAProxy's dynamic-cookie-key is
 * derived from it per service), kept in DATA_DIR/cookie-secret, mode 0600: generated
 * once, so cookies stay valid across panel restarts, and never shown in the panel.
 */
export function cookieSecret(dataDir: string): string {
  return keptInDataDir(dataDir, "cookie-secret", { pattern: /^[0-9a-f]{64}$/, create: () => randomBytes(32).toString("hex"), mode: 0o600 });
}
