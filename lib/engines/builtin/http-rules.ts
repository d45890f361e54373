import type { IncomingHttpHeaders } from "node:http";
import type { RetryCondition, Rules } from "../../core/rules";

/**
 * Pure HTTP decisions of the builtin proxy: which headers cross the proxy,
 * what the forwarded headers say, the sticky cookie, whether a failed attempt
 * may be retried, and what a transport error means. No sockets here.
 */

export type HeaderMap = Record<string, string | string[]>;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
/** Request headers of one hop that are not forwarded (plus whatever Connection names). `host` is set again on purpose. */
const REQUEST_HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect", "host"]);
const RESPONSE_HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding"]);
const CONNECT_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "ETIMEDOUT"]);
const EMPTY_CODES = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "UND_ERR_CLOSED", "UND_ERR_DESTROYED"]);

/** What went wrong with an attempt, in the words of rules.retries.on; "other" is never retried. */
export type Failure = RetryCondition | "other";

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code ?? e?.cause?.code ?? "";
}

/** Transport error (undici or node:net) -> retry condition. */
export function classifyError(err: unknown): Failure {
  const code = errorCode(err);
  if (CONNECT_CODES.has(code)) return "conn_failure";
  if (code === "UND_ERR_HEADERS_TIMEOUT") return "response_timeout";
  if (EMPTY_CODES.has(code)) return "empty_response";
  return "other";
}

/** An error for logs: its code, and the message when it says more. */
export function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string } | null;
  if (e?.code) return e.message && !e.message.includes(e.code) ? `${e.code} (${e.message})` : e.code;
  return e?.message ?? String(err);
}

/** The reason an active check failed without an HTTP status: "connect ECONNREFUSED", "connection reset", ... */
export function checkErrorReason(err: unknown): string {
  const code = errorCode(err) || describeError(err);
  if (CONNECT_CODES.has(code)) return `connect ${code}`;
  if (code === "ECONNRESET") return "connection reset";
  return code;
}

export const isIdempotent = (method: string | undefined): boolean => IDEMPOTENT.has(method ?? "GET");

export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const len = headers["content-length"];
  return len !== undefined && len !== "0";
}

/**
 * May an attempt that failed with `cond` be sent again? Only when the rules
 * list the condition and the request has no body: bodies are streamed, never
 * buffered, so they cannot be sent twice. A request that never reached a
 * server (conn_failure) is safe to resend whatever its method; after anything
 * else only idempotent methods are.
 */
export function isRetryable(rules: Rules, cond: RetryCondition, hasBody: boolean, idempotent: boolean): boolean {
  if (!rules.retries.on.includes(cond)) return false;
  if (hasBody) return false;
  return cond === "conn_failure" || idempotent;
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  for (const v of Array.isArray(value) ? value : value ? [value] : []) for (const t of v.split(",")) tokens.add(t.trim().toLowerCase());
  return tokens;
}

function forwardedFor(prior: string | string[] | undefined, clientIp: string): string {
  if (!prior) return clientIp;
  return `${Array.isArray(prior) ? prior.join(", ") : prior}, ${clientIp}`;
}

/** Client request headers -> upstream request headers, with X-Forwarded-For/Proto/Host and X-Real-IP (the client's own are replaced). */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, clientIp: string): HeaderMap {
  const out: HeaderMap = {};
  const named = connectionTokens(headers.connection);
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || REQUEST_HOP_BY_HOP.has(k) || named.has(k) || k.startsWith("x-forwarded-") || k === "x-real-ip") continue;
    out[k] = v;
  }
  if (headers.host) out.host = headers.host;
  out["x-forwarded-for"] = forwardedFor(headers["x-forwarded-for"], clientIp);
  out["x-real-ip"] = clientIp;
  out["x-forwarded-proto"] = "http";
  if (headers.host) out["x-forwarded-host"] = headers.host;
  return out;
}

/** Upstream response headers -> client response headers (hop-by-hop ones dropped). */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>): HeaderMap {
  const out: HeaderMap = {};
  const named = connectionTokens(headers.connection);
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || RESPONSE_HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The request head sent upstream for an Upgrade (WebSocket) request: the
 * client's raw headers as they came (Connection and Upgrade included, they are
 * the point), with X-Forwarded-* and X-Real-IP replaced by ours.
 */
export function upgradeRequestHead(method: string, target: string, rawHeaders: readonly string[], clientIp: string): string {
  const lines = [`${method} ${target} HTTP/1.1`];
  let prior: string | undefined;
  let host: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const k = rawHeaders[i].toLowerCase();
    const v = rawHeaders[i + 1];
    if (k === "host") host = v;
    if (k === "x-forwarded-for") prior = prior ? `${prior}, ${v}` : v;
    if (k.startsWith("x-forwarded-") || k === "x-real-ip") continue;
    lines.push(`${rawHeaders[i]}: ${v}`);
  }
  lines.push(`X-Forwarded-For: ${forwardedFor(prior, clientIp)}`, `X-Real-IP: ${clientIp}`, "X-Forwarded-Proto: http");
  if (host) lines.push(`X-Forwarded-Host: ${host}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** The value of cookie `name` in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Set-Cookie value pinning a client to a replica (the value is the opaque replica id, never an address). */
export function stickyCookie(rules: Rules, replicaId: string): string {
  const parts = [`${rules.sticky.cookieName}=${replicaId}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (rules.sticky.maxAgeS > 0) parts.push(`Max-Age=${rules.sticky.maxAgeS}`);
  return parts.join("; ");
}

export function appendSetCookie(headers: HeaderMap, cookie: string): void {
  const prior = headers["set-cookie"];
  headers["set-cookie"] = prior === undefined ? [cookie] : [...(Array.isArray(prior) ? prior : [prior]), cookie];
}

/** Socket address -> client IP as the hash and X-Forwarded-For see it (IPv4-mapped IPv6 unwrapped). */
export function clientIpOf(remoteAddress: string | undefined): string {
  const a = remoteAddress ?? "";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}
