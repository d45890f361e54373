/**
 * The headers every response of the panel carries: pages, API answers and socket.io's
 * long-polling answers (which socket.io writes itself, so lib/realtime/server.ts adds
 * them there). server.ts sets them before Next.js handles a request.
 *
 * The Content-Security-Policy allows scripts and styles from the panel only; Next.js
 * puts its hydration data in inline scripts, so 'unsafe-inline' stays for scripts (a
 * nonce would make every page dynamic). What it still stops: scripts and frames from
 * elsewhere, connections to other origins (nothing can be sent away), being framed,
 * <base> and form targets elsewhere, plugins. Development adds what hot reload needs.
 */
export function contentSecurityPolicy(dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

/**
 * The API reference's page (/api/docs, Swagger UI from swagger-ui-dist): the panel's policy
 * with one difference, stricter: its scripts are files of the panel, none inline, so
 * script-src is 'self' alone. Swagger UI sets inline styles and draws data: images, which
 * the panel's policy already allows; its requests go to the panel only (connect-src 'self').
 */
export function docsContentSecurityPolicy(): string {
  return contentSecurityPolicy(false).replace("script-src 'self' 'unsafe-inline'", "script-src 'self'");
}

/** Browser features the panel never uses, off for it and anything it could embed. */
export const PERMISSIONS_POLICY = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

export function securityHeaders(dev: boolean): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(dev),
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
  };
}

/** The headers for a request's URL: the API reference's page (/api/docs) gets its own policy, everything else the panel's. */
export function securityHeadersFor(url: string | undefined, dev: boolean): Record<string, string> {
  const headers = securityHeaders(dev);
  const pathname = (url ?? "").split("?")[0];
  return pathname === "/api/docs" ? { ...headers, "Content-Security-Policy": docsContentSecurityPolicy() } : headers;
}

/** API answers and socket.io's are never stored by a browser or a proxy (they carry sessions' data). */
export const NO_STORE = { "Cache-Control": "no-store" } as const;

export const isApiPath = (url: string | undefined): boolean => url === "/api" || (url ?? "").startsWith("/api/") || (url ?? "").startsWith("/api?");
