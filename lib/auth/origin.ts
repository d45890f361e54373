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
