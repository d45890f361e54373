import { isIP } from "node:net";

/**
 * Origin check for mutating requests: the Origin (or, failing that, Referer)
 * must be the panel's own origin (scheme + Host header) or an allowed one.
 * A mutation with neither header is refused: browsers always send Origin on
 * POST/PUT/PATCH/DELETE, and scripts can send it explicitly.
 */
export function isSameOriginMutation(opts: {
  method: string;
  origin: string | null;
  referer: string | null;
  host: string | null;
  forwardedProto: string | null;
  secure: boolean;
  allowed: string[];
}): boolean {
  const method = opts.method.toUpperCase();
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return true;
  let origin = opts.origin;
  if (!origin && opts.referer) {
    try {
      origin = new URL(opts.referer).origin;
    } catch {
      return false;
    }
  }
  if (!origin || origin === "null" || !opts.host) return false;
  const proto = opts.forwardedProto ?? (opts.secure ? "https" : "http");
  if (origin === `${proto}://${opts.host}`) return true;
  return opts.allowed.includes(origin);
}

/** Names a browser on this machine uses for the panel. */
export const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/** The names the panel answers for, from its configuration (lower case, without ports). */
export function panelHostNames(cfg: { HOST: string; ALLOWED_ORIGINS: string; PUBLIC_URL?: string }): string[] {
  const names = new Set(LOOPBACK_NAMES);
  const bind = cfg.HOST.toLowerCase();
  if (bind !== "0.0.0.0" && bind !== "::") names.add(bind.includes(":") && !bind.startsWith("[") ? `[${bind}]` : bind);
  for (const origin of allowedOrigins(cfg)) {
    try {
      names.add(new URL(origin).hostname.toLowerCase());
    } catch {
      // an ALLOWED_ORIGINS entry that is not a URL adds no name
    }
  }
  return [...names];
}

/** ALLOWED_ORIGINS as a list, with PUBLIC_URL's origin added (the panel's own origin behind a proxy). */
export function allowedOrigins(cfg: { ALLOWED_ORIGINS: string; PUBLIC_URL?: string }): string[] {
  const list = cfg.ALLOWED_ORIGINS.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (cfg.PUBLIC_URL) list.push(new URL(cfg.PUBLIC_URL).origin);
  return list;
}

/** "Example.com:3000" → "example.com", "[::1]:3000" → "[::1]"; null when it is no host. */
export function hostNameOf(host: string): string | null {
  const h = host.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]{2,45}\]|[a-z0-9._-]{1,253})(?::\d{1,5})?$/.exec(h);
  return m ? m[1] : null;
}

/**
 * DNS rebinding: a page on attacker.example whose name is re-pointed at the panel's
 * address is same-origin with itself, so Origin == Host proves nothing. The Host
 * header must also be a name this panel answers for:
 *   - the loopback names (localhost, 127.0.0.1, [::1]) and the HOST bind address;
 *   - the hosts of ALLOWED_ORIGINS and PUBLIC_URL;
 *   - any IP address literal: a browser sends one only for a page it loaded from that
 *     address itself, and rebinding needs a name the attacker controls.
 * Ports are not compared (a proxy in front may use another); the Origin check does that.
 */
export function isPanelHost(host: string | null, names: string[]): boolean {
  if (!host) return false;
  const name = hostNameOf(host);
  if (name === null) return false;
  return names.includes(name) || isIP(name) === 4 || (name.startsWith("[") && isIP(name.slice(1, -1)) === 6);
}

export function wrongHostMessage(host: string | null, names: string[]): string {
  return (
    `this panel does not answer for the host ${JSON.stringify(host ?? "")} (a DNS rebinding guard): ` +
    `it answers for ${names.join(", ")} and IP addresses; set PUBLIC_URL (or ALLOWED_ORIGINS) to the address you use`
  );
}
