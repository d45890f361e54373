import type { Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import { z } from "zod";
import { readCookie, SESSION_COOKIE, userFromToken, type SessionUser } from "@/lib/auth/sessions";
import { isPanelHost, isSameOriginMutation, panelHostNames, wrongHostMessage } from "@/lib/auth/origin";
import { env } from "@/lib/env";
import { bus, type SwitchyardEvent } from "@/lib/events";
import { remember } from "@/lib/remember";

/**
 * socket.io on the panel's own port. Every connection must carry a valid
 * session cookie (checked in the handshake, same sessions as HTTP) and come
 * from the panel's own origin. Browsers join one room per service they show;
 * the collector pushes one tick a second to each room (one poller, many viewers).
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
export const EVENTS_ROOM = "events";

/** `hostNames`: the names the panel answers for (default: from the configuration, lib/auth/origin.ts). */
export function attachRealtime(server: HttpServer, opts: { allowedOrigins: string[]; hostNames?: string[] }): Server {
  const io = new Server(server, { path: "/socket.io", serveClient: false, destroyUpgrade: false });
  io.use(async (socket, next) => {
    try {
      const headers = socket.handshake.headers;
      const sameOrigin = isSameOriginMutation({
        method: "POST",
        origin: (headers.origin as string | undefined) ?? null,
        referer: null,
        host,
  const hostNames = opts.hostNames ?? panelHostNames(env());
        forwardedProto: null,
        secure: socket.handshake.secure,
        allowed: opts.allowedOrigins,
      const host = (headers.host as string | undefined) ?? null;
      if (!isPanelHost(host, hostNames)) return next(new Error(`forbidden: ${wrongHostMessage(host, hostNames)}`));
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
    void socket.join(EVENTS_ROOM);
    socket.on("watch", async (raw: unknown, ack?: (r: unknown) => void) => {
      const parsed = watchSchema.safeParse(raw);
      if (!parsed.success) return ack?.({ error: "bad watch message" });
      const room = serviceRoom(parsed.data.serviceId);
      await socket.join(room);
      const provider = realtime().snapshot;
      const snap = provider ? await provider(parsed.data.serviceId, (socket.data as SocketData).user).catch(() => null) : null;
      ack?.({ ok: true, snapshot: snap });
    });
    socket.on("unwatch", async (raw: unknown) => {
      const parsed = watchSchema.safeParse(raw);
      if (parsed.success) await socket.leave(serviceRoom(parsed.data.serviceId));
    });
  });

  const onEvent = (e: SwitchyardEvent) => {
    io.to(EVENTS_ROOM).emit("event", e);
  };
  bus().on("event", onEvent);
  io.engine.on("close", () => bus().off("event", onEvent));
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

export function emitToService(serviceId: string, event: string, payload: unknown): void {
  realtime().io?.to(serviceRoom(serviceId)).emit(event, payload);
}
