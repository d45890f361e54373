import { randomInt } from "node:crypto";
import { keptInDataDir } from "@/lib/kept-in-data-dir";

/**
 * The UDP loopback port on which this panel receives HAProxy's per-request log, kept in
 * DATA_DIR/haproxy-log-port: chosen once, so an HAProxy adopted after a panel restart
 * (whose config names the port) keeps feeding the new panel. Chosen away from the
 * panel's replica port range (20000-20999 by default) and the kernel's ephemeral ports.
 */
export const LOG_PORT_RANGE = { min: 11000, max: 11999 } as const;

export function haproxyLogPort(dataDir: string): number {
  const text = keptInDataDir(dataDir, "haproxy-log-port", {
    pattern: /^[0-9]{1,5}$/,
    create: () => String(randomInt(LOG_PORT_RANGE.min, LOG_PORT_RANGE.max + 1)),
    mode: 0o600,
  });
  return Number(text);
}
