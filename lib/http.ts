import { z } from "zod";
import { AppError, httpStatusOf, isAppError } from "@/lib/core/errors";
import { hasRole, type Role } from "@/lib/core/roles";
import { allowedOrigins, hostNameOf, isPanelHost, isSameOriginMutation, panelHostNames, wrongHostMessage } from "@/lib/auth/origin";
import { readCookie, SESSION_COOKIE, userFromToken, type SessionUser } from "@/lib/auth/sessions";
import { env } from "@/lib/env";
import { isDatabaseBusy } from "@/lib/db/client";

/**
 * The one place where route handlers turn requests into use-case calls and
 * errors into responses. Every handler under app/api goes through `route`,
 * which checks the Origin of mutations (403) and the session and role (401/403)
 * before the handler runs. `tests/integration/route-sweep.test.ts` proves it.
 */

export type RouteContext<P> = { req: Request; user: SessionUser; params: P; ip: string };
export type PublicContext<P> = { req: Request; user: SessionUser | null; params: P; ip: string };

type NextCtx = { params: Promise<Record<string, string | string[]>> };

export function errorResponse(e: unknown): Response {
  if (isDatabaseBusy(e)) {
    e = new AppError("unavailable", "the database is locked by another process (a backup or an sqlite3 shell?); try again in a moment", { retryAfterS: 1 });
  }
  if (isAppError(e)) {
    const headers: Record<string, string> = {};
    if (typeof e.details === "object" && e.details && "retryAfterS" in e.details) {
      headers["Retry-After"] = String((e.details as { retryAfterS: number }).retryAfterS);
    }
    return Response.json({ error: { code: e.code, message: e.message, details: e.details ?? null } }, { status: httpStatusOf[e.code], headers });
  }
  if (e instanceof z.ZodError) {
    return Response.json(
      { error: { code: "bad_request", message: describeZodError(e), details: e.issues.map((i) => ({ path: i.path.join("."), message: i.message })) } },
      { status: 400 },
    );
  }
  console.error("[switchyard] unhandled error in route", e);
  return Response.json({ error: { code: "internal", message: "internal error", details: null } }, { status: 500 });
}

export function describeZodError(e: z.ZodError): string {
  return e.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

export function clientIp(req: Request): string {
  if (env().TRUST_PROXY) {
    const fwd = req.headers.get("x-forwarded-for");
    if (fwd) return fwd.split(",")[0].trim();
  }
  return req.headers.get("x-switchyard-remote") ?? "local";
}

/**
 * Did the browser reach the panel over https (so its cookie gets Secure)? Its own URL, a
 * trusted proxy's X-Forwarded-Proto (TRUST_PROXY), or the Host of an https PUBLIC_URL
 * (a proxy in front that terminates TLS and passes the name on).
 */
export function isSecureRequest(req: Request): boolean {
  const proto = env().TRUST_PROXY ? req.headers.get("x-forwarded-proto") : null;
  if (proto === "https" || new URL(req.url).protocol === "https:") return true;
  const pub = env().PUBLIC_URL ? new URL(env().PUBLIC_URL!) : null;
  return pub?.protocol === "https:" && hostNameOf(req.headers.get("host") ?? "") === pub.hostname.toLowerCase();
}

const isMutation = (method: string) => !["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase());

/** Mutations (sign-in and setup included) must name this panel in Host (421) and come from its origin (403). */
function checkOrigin(req: Request): void {
  if (!isMutation(req.method)) return;
  const host = req.headers.get("host");
  const names = panelHostNames(env());
  if (!isPanelHost(host, names)) throw new AppError("misdirected", wrongHostMessage(host, names));
  const ok = isSameOriginMutation({
    method: req.method,
    origin: req.headers.get("origin"),
    referer: req.headers.get("referer"),
    host,
    forwardedProto: env().TRUST_PROXY ? req.headers.get("x-forwarded-proto") : null,
    secure: new URL(req.url).protocol === "https:",
    allowed: allowedOrigins(env()),
  });
  if (!ok) throw new AppError("forbidden", "cross-origin request refused: the Origin header must be this panel's own origin");
}

export async function currentUser(req: Request): Promise<SessionUser | null> {
  return userFromToken(readCookie(req.headers.get("cookie"), SESSION_COOKIE));
}

async function resolveParams<P>(ctx: NextCtx | undefined): Promise<P> {
  return ((ctx?.params ? await ctx.params : {}) ?? {}) as P;
}

type Handler = (req: Request, ctx?: NextCtx) => Promise<Response>;

/** The bodies readBody read, for the contract check (tests only; a request is forgotten with it). */
const bodiesRead = new WeakMap<Request, string>();

/**
 * Under SWITCHYARD_CONTRACT (tests only) every request and answer is checked against the
 * OpenAPI document, and an answer outside it becomes a 500 "contract violation"
 * (lib/openapi/contract.ts, loaded only then). Otherwise the handler as it is.
 */
function contracted(handler: Handler): Handler {
  return async (req, ctx) => {
    if (!env().SWITCHYARD_CONTRACT) return handler(req, ctx);
    const res = await handler(req, ctx);
    const { checkContract } = await import("@/lib/openapi/contract");
    // the body as the handler read it (never read twice, never more than readBody reads); null: not read
    return checkContract(req, bodiesRead.get(req) ?? null, res, await resolveParams<Record<string, string>>(ctx));
  };
}

/** A route that checks its own caller (GET /metrics: a bearer token) or none (GET /api/health): the contract check only. */
export function plainRoute(fn: (req: Request) => Promise<Response> | Response): Handler {
  return contracted(async (req) => fn(req));
}

/**
 * A protected route: origin check on mutations, then a session with at least `role`.
 * `opts.anonymous`: the answer (a 401) to a caller without a session, for a page a
 * browser opens (the API reference) rather than the JSON error.
 */
export function route<P = Record<string, string>>(role: Role, fn: (ctx: RouteContext<P>) => Promise<Response | unknown>, opts: { anonymous?: () => Response } = {}) {
  return contracted(async (req: Request, ctx?: NextCtx): Promise<Response> => {
    try {
      checkOrigin(req);
      const user = await currentUser(req);
      if (!user && opts.anonymous) return opts.anonymous();
      if (!user) throw new AppError("unauthorized", "sign in first");
      if (!hasRole(user.role, role)) throw new AppError("forbidden", `this needs the ${role} role; you are ${user.role}`);
      const out = await fn({ req, user, params: await resolveParams<P>(ctx), ip: clientIp(req) });
      return out instanceof Response ? out : Response.json(out);
    } catch (e) {
      return errorResponse(e);
    }
  });
}

/** A public route (health, login, setup): still origin-checked on mutations. */
export function publicRoute<P = Record<string, string>>(fn: (ctx: PublicContext<P>) => Promise<Response | unknown>) {
  return contracted(async (req: Request, ctx?: NextCtx): Promise<Response> => {
    try {
      checkOrigin(req);
      const user = await currentUser(req);
      const out = await fn({ req, user, params: await resolveParams<P>(ctx), ip: clientIp(req) });
      return out instanceof Response ? out : Response.json(out);
    } catch (e) {
      return errorResponse(e);
    }
  });
}

/** The largest request body any route reads (the biggest real one, a rules change, is a few KB). */
export const MAX_BODY_BYTES = 256 * 1024;

const tooLarge = () => new AppError("payload_too_large", `the request body is larger than ${MAX_BODY_BYTES / 1024} KB`);

/**
 * The body as text, never more than `limit` bytes in memory: a Content-Length over the
 * limit is refused before anything is read, and a body without one (chunked) is read
 * until it passes the limit, then the stream is cancelled (413 either way).
 */
export async function readBody(req: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && !(Number(declared) <= limit)) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      throw new AppError("bad_request", "the request body could not be read");
    });
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (env().SWITCHYARD_CONTRACT) bodiesRead.set(req, text);
  return text;
}

/** Parse a JSON body with a zod schema; a bad body is a 400 with the schema's message, a big one 413. */
export async function body<T extends z.ZodTypeAny>(req: Request, schema: T): Promise<z.infer<T>> {
  const text = await readBody(req);
  let raw: unknown;
  try {
    raw = text ? JSON.parse(text) : {};
  } catch {
    throw new AppError("bad_request", "the body must be JSON");
  }
  return schema.parse(raw);
}
