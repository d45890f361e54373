"use client";

import { useEffect, useState } from "react";
import { io, type Socket } from "socket.io-client";
import type { SwitchyardEvent } from "@/lib/events";

/**
 * The browser's one live channel. Every component subscribes through these
 * hooks; there is one socket per tab, whatever the number of charts.
 */
let socket: Socket | null = null;

export function liveSocket(): Socket {
  if (!socket) {
    socket = io({ path: "/socket.io", withCredentials: true, transports: ["websocket", "polling"], reconnectionDelayMax: 3000 });
  }
  return socket;
}

export type ConnectionState = "connecting" | "live" | "reconnecting" | "refused";

export function useConnectionState(): ConnectionState {
  const [state, setState] = useState<ConnectionState>("connecting");
  useEffect(() => {
    const s = liveSocket();
    const onConnect = () => setState("live");
    const onDisconnect = () => setState("reconnecting");
    const onError = (err: Error) => setState(/unauthorized|forbidden/.test(err.message) ? "refused" : "reconnecting");
    if (s.connected) setState("live");
    s.on("connect", onConnect);
    s.on("disconnect", onDisconnect);
    s.on("connect_error", onError);
    return () => {
      s.off("connect", onConnect);
      s.off("disconnect", onDisconnect);
      s.off("connect_error", onError);
    };
  }, []);
  return state;
}

/** Events as they happen, newest first, seeded with the server-rendered list. */
export function useLiveEvents(initial: SwitchyardEvent[], filter?: (e: SwitchyardEvent) => boolean, max = 300): SwitchyardEvent[] {
  const [events, setEvents] = useState(initial);
  useEffect(() => {
    const s = liveSocket();
    const onEvent = (e: SwitchyardEvent) => {
      if (filter && !filter(e)) return;
      setEvents((prev) => (prev.some((p) => p.id === e.id) ? prev : [e, ...prev].slice(0, max)));
    };
    s.on("event", onEvent);
    return () => {
      s.off("event", onEvent);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return events;
}
