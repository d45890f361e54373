import type { Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import { z } from "zod";
import { liveSessionIds, readCookie, SESSION_COOKIE, SESSIONS_ENDED, userFromToken, type EndedSessions, type SessionUser } from "@/lib/auth/sessions";
import { isPanelHost, isSameOriginMutation, panelHostNames, wrongHostMessage } from "@/lib/auth/origin";
import { env } from "@/lib/env";
import { NO_STORE, securityHeaders } from "@/lib/security-headers";
import { bus, type SwitchyardEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import { eventsFor, serviceViewFor, type ServiceView } from "@/lib/services/views";

/**
 * socket.io on the panel's own port. Every connection must carry a valid
 * session cookie (checked in the handshake, same sessions as HTTP) and come
 * from the panel's own origin. Browsers join one room per service they show;
 * the collector pushes one tick a second to each room (one poller, many viewers).
 * Sockets of the viewer role also join VIEWERS_ROOM and, per watched service, its
 * viewers' room: service views and events reach them in the viewer form only
 * (lib/services/views.ts); everyone else gets them whole.
 */

export type SocketData = { user: SessionUser };

export const watchSchema = z.object({ serviceId: z.string().regex(/^[a-z0-9]{1,40}$/) }).strict();

type SnapshotProvider = (serviceId: string, user: SessionUser) => Promise<unknown>;

type Realtime = {
  io: Server | null;
  snapshot: SnapshotProvider | null;
  watchers: Map<string, number>;
};

export function realtime(): Realtime {
  return remember("realtime", () => ({ io: null, snapshot: null, watchers: new Map() }));
}

export const serviceRoom = (id: string) => `service:${id}`;
/** the viewers among a service's watchers (a prefix other than "service:", so watchedServiceIds ignores it) */
const viewersOfService = (id: string) => `viewers-of:${id}`;
export const EVENTS_ROOM = "events";
const VIEWERS_ROOM = "viewers";
const isViewer = (socket: Socket) => (socket.data as SocketData).user.role === "viewer";

/** How often the sessions of connected sockets are checked (an expired session's socket is closed within this). */
export const SESSION_CHECK_MS = 10_000;

/** Disconnects the sockets whose session ended, by announcement (sign-out, a password or role change, a deleted user) or found by `check`. */
function closeEndedSessions(io: Server, checkMs: number): () => void {
  const byAnnouncement = (ended: EndedSessions) => {
    for (const socket of io.sockets.sockets.values()) {
      const user = (socket.data as Partial<SocketData>).user;
      if (user && ("sessionId" in ended ? user.sessionId === ended.sessionId : user.id === ended.userId)) socket.disconnect(true);
    }
  };
  const check = async () => {
    const sockets = [...io.sockets.sockets.values()].filter((s) => (s.data as Partial<SocketData>).user);
    const live = await liveSessionIds([...new Set(sockets.map((s) => (s.data as SocketData).user.sessionId))]);
    for (const socket of sockets) if (!live.has((socket.data as SocketData).user.sessionId)) socket.disconnect(true);
  };
  bus().on(SESSIONS_ENDED, byAnnouncement);
  const timer = setInterval(() => void check().catch(() => undefined), checkMs).unref();
  return () => {
    bus().off(SESSIONS_ENDED, byAnnouncement);
    clearInterval(timer);
  };
}

/**
 * `hostNames`: the names the panel answers for (default: from the configuration, lib/auth/origin.ts);
 * `sessionCheckMs`: how often sockets' sessions are checked for expiry (tests shorten it).
 */
export function attachRealtime(server: HttpServer, opts: { allowedOrigins: string[]; hostNames?: string[]; sessionCheckMs?: number }): Server {
  const io = new Server(server, { path: "/socket.io", serveClient: false, destroyUpgrade: false });
  const hostNames = opts.hostNames ?? panelHostNames(env());
  // socket.io answers its requests itself (long-polling, refusals), past server.ts: the same headers here
  const headers = Object.entries({ ...securityHeaders(env().NODE_ENV === "development"), ...NO_STORE });
  io.engine.use((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  });
  io.use(async (socket, next) => {
    try {
      const headers = socket.handshake.headers;
      const host = (headers.host as string | undefined) ?? null;
      if (!isPanelHost(host, hostNames)) return next(new Error(`forbidden: ${wrongHostMessage(host, hostNames)}`));
      const sameOrigin = isSameOriginMutation({
        method: "POST",
        origin: (headers.origin as string | undefined) ?? null,
        referer: null,
        host,
        forwardedProto: null,
        secure: socket.handshake.secure,
        allowed: opts.allowedOrigins,
      });
      if (!sameOrigin) return next(new Error("forbidden: cross-origin socket refused"));
      const user = await userFromToken(readCookie(headers.cookie, SESSION_COOKIE));
      if (!user) return next(new Error("unauthorized: sign in first"));
      (socket.data as SocketData).user = user;
      next();
    } catch (e) {
      next(e instanceof Error ? e : new Error(String(e)));
    }
  });

  io.on("connection", (socket: Socket) => {
    void socket.join(isViewer(socket) ? [EVENTS_ROOM, VIEWERS_ROOM] : EVENTS_ROOM);
    socket.on("watch", async (raw: unknown, ack?: (r: unknown) => void) => {
      const parsed = watchSchema.safeParse(raw);
      if (!parsed.success) return ack?.({ error: "bad watch message" });
      const room = serviceRoom(parsed.data.serviceId);
      await socket.join(isViewer(socket) ? [room, viewersOfService(parsed.data.serviceId)] : room);
      const provider = realtime().snapshot;
      const snap = provider ? await provider(parsed.data.serviceId, (socket.data as SocketData).user).catch(() => null) : null;
      ack?.({ ok: true, snapshot: snap });
    });
    socket.on("unwatch", async (raw: unknown) => {
      const parsed = watchSchema.safeParse(raw);
      if (!parsed.success) return;
      await socket.leave(serviceRoom(parsed.data.serviceId));
      await socket.leave(viewersOfService(parsed.data.serviceId));
    });
  });

  // viewers get each event after its secret words are taken out; a chain keeps their order
  let toViewers: Promise<void> = Promise.resolve();
  const onEvent = (e: SwitchyardEvent) => {
    io.to(EVENTS_ROOM).except(VIEWERS_ROOM).emit("event", e);
    toViewers = toViewers
      .then(() => eventsFor("viewer", [e]))
      .then(([shown]) => void io.to(VIEWERS_ROOM).emit("event", shown))
      .catch(() => undefined);
  };
  bus().on("event", onEvent);
  const stopClosing = closeEndedSessions(io, opts.sessionCheckMs ?? SESSION_CHECK_MS);
  io.engine.on("close", () => {
    bus().off("event", onEvent);
    stopClosing();
  });
  realtime().io = io;
  return io;
}

/** Rooms that have at least one viewer: the collector only pushes to these. */
export function watchedServiceIds(): string[] {
  const io = realtime().io;
  if (!io) return [];
  const ids: string[] = [];
  for (const [room, members] of io.sockets.adapter.rooms) {
    if (room.startsWith("service:") && members.size > 0) ids.push(room.slice("service:".length));
  }
  return ids;
}

/** For payloads every role may see whole (ticks, traffic). Service views go through emitServiceView. */
export function emitToService(serviceId: string, event: string, payload: unknown): void {
  realtime().io?.to(serviceRoom(serviceId)).emit(event, payload);
}

/** A service's view to its watchers: whole to operators and admins, the viewer form to viewers. */
export function emitServiceView(serviceId: string, view: ServiceView): void {
  const io = realtime().io;
  if (!io) return;
  io.to(serviceRoom(serviceId)).except(VIEWERS_ROOM).emit("service", view);
  io.to(viewersOfService(serviceId)).emit("service", serviceViewFor("viewer", view));
}
