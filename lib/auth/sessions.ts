import crypto from "node:crypto";
import { db } from "@/lib/db/client";
import { bus } from "@/lib/events";
import { env } from "@/lib/env";
import { isRole, type Role } from "@/lib/core/roles";

export const SESSION_COOKIE = "sy_session";

export type SessionUser = { id: string; username: string; role: Role; sessionId: string };

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

export async function createSession(userId: string): Promise<{ token: string; expiresAt: Date }> {
  const token = crypto.randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + env().SESSION_TTL_HOURS * 3600_000);
  await db().session.create({ data: { id: sha256(token), userId, expiresAt } });
  return { token, expiresAt };
}

/** The user behind a session token, or null when missing, unknown or expired. */
export async function userFromToken(token: string | undefined | null): Promise<SessionUser | null> {
  if (!token || token.length > 100) return null;
  const id = sha256(token);
  const session = await db().session.findUnique({ where: { id }, include: { user: true } });
  if (!session) return null;
  if (session.expiresAt.getTime() <= Date.now()) {
    await db().session.delete({ where: { id } }).catch(() => undefined);
    return null;
  }
  if (!isRole(session.user.role)) return null;
  if (Date.now() - session.lastSeenAt.getTime() > 60_000) {
    await db().session.update({ where: { id }, data: { lastSeenAt: new Date() } }).catch(() => undefined);
  }
  return { id: session.user.id, username: session.user.username, role: session.user.role, sessionId: id };
}

/** Sessions that just ended: the realtime layer disconnects their sockets (lib/realtime/server.ts). */
export const SESSIONS_ENDED = "sessions-ended";
export type EndedSessions = { sessionId: string } | { userId: string };
const announce = (ended: EndedSessions) => bus().emit(SESSIONS_ENDED, ended);

export async function endSession(token: string | undefined | null): Promise<void> {
  if (!token) return;
  await db().session.deleteMany({ where: { id: sha256(token) } });
  announce({ sessionId: sha256(token) });
}

/** Every session of a user (a password or role change, a deleted user). */
export async function endSessionsOf(userId: string): Promise<void> {
  await db().session.deleteMany({ where: { userId } });
  announce({ userId });
}

/** Every session of a user but one (the user changed their own password: they stay signed in here, nowhere else); returns how many ended. */
export async function endOtherSessionsOf(userId: string, keepSessionId: string): Promise<number> {
  const others = await db().session.findMany({ where: { userId, id: { not: keepSessionId } }, select: { id: true } });
  if (others.length === 0) return 0;
  await db().session.deleteMany({ where: { id: { in: others.map((o) => o.id) } } });
  for (const o of others) announce({ sessionId: o.id }); // by session: this browser's sockets stay connected
  return others.length;
}

/** Which of these sessions still exist and have not expired (sessions also end where nobody announces it: expiry). */
export async function liveSessionIds(ids: string[], now = new Date()): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db().session.findMany({ where: { id: { in: ids }, expiresAt: { gt: now } }, select: { id: true } });
  return new Set(rows.map((r) => r.id));
}

/** Parse one cookie out of a Cookie header. */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const parts = [`${SESSION_COOKIE}=${token}`, "Path=/", "HttpOnly", "SameSite=Lax", `Expires=${expiresAt.toUTCString()}`];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  const parts = [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0"];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}
