"use client";

import { useEffect, useState } from "react";
import { io, type Socket } from "socket.io-client";
import type { SwitchyardEvent } from "@/lib/events";
import type { ServiceTick, TrafficStatus } from "@/lib/core/metrics";
import type { ServiceView } from "@/lib/services/views";

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
    // the server closes a socket whose session ended (signed out, password changed, expired): sign in again
    const onDisconnect = (reason: string) => setState(reason === "io server disconnect" ? "refused" : "reconnecting");
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

// ------------------------------------------------------------------ one service, live

/** How many 1-second points the browser keeps per service (5 minutes). */
export const HISTORY_POINTS = 300;

export type ServiceSnapshot = { service: ServiceView; history: ServiceTick[]; traffic: TrafficStatus | null };

export type ServiceLive = {
  service: ServiceView;
  /** oldest first, at most HISTORY_POINTS */
  history: ServiceTick[];
  last: ServiceTick | null;
  traffic: TrafficStatus | null;
  connection: ConnectionState;
  /** Put a fresher view in place (e.g. the answer of a PATCH) before the next push arrives. */
  setService: (s: ServiceView) => void;
  setTraffic: (t: TrafficStatus) => void;
};

// several components of one tab may watch the same service: unwatch only when the last one leaves
const watchCounts = new Map<string, number>();

/** Append ticks in time order, drop duplicates, keep the last `max`. */
export function mergeTicks(prev: ServiceTick[], next: ServiceTick[], max = HISTORY_POINTS): ServiceTick[] {
  if (next.length === 0) return prev;
  const lastT = prev.length ? prev[prev.length - 1].t : -Infinity;
  if (next[0].t > lastT) {
    const out = prev.concat(next);
    return out.length > max ? out.slice(out.length - max) : out;
  }
  const byT = new Map<number, ServiceTick>();
  for (const t of prev) byT.set(t.t, t);
  for (const t of next) byT.set(t.t, t);
  const out = [...byT.values()].sort((a, b) => a.t - b.t);
  return out.length > max ? out.slice(out.length - max) : out;
}

/**
 * Watch one service: joins its room (the ack brings a snapshot with the last
 * 5 minutes), keeps the 1-second history ring, and watches again after a
 * reconnect, when the snapshot comes again and fills what was missed.
 */
export function useServiceLive(serviceId: string, initial: ServiceView | ServiceSnapshot): ServiceLive {
  const seed: ServiceSnapshot = "instances" in initial ? { service: initial, history: [], traffic: null } : initial;
  const [service, setService] = useState<ServiceView>(seed.service);
  const [history, setHistory] = useState<ServiceTick[]>(() => seed.history.slice(-HISTORY_POINTS));
  const [traffic, setTraffic] = useState<TrafficStatus | null>(seed.traffic);
  const connection = useConnectionState();

  useEffect(() => {
    const s = liveSocket();
    let alive = true;
    const watch = () => {
      s.emit("watch", { serviceId }, (ack: { ok?: boolean; snapshot?: ServiceSnapshot | null } | undefined) => {
        const snap = ack?.ok ? ack.snapshot : null;
        if (!alive || !snap) return;
        if (snap.service) setService(snap.service);
        if (snap.traffic) setTraffic(snap.traffic);
        if (Array.isArray(snap.history)) setHistory((prev) => mergeTicks(prev, snap.history));
      });
    };
    // a hidden tab keeps the ticks but renders nothing: they are merged in one go when it is shown again
    let hidden: ServiceTick[] = [];
    const onTick = (t: ServiceTick) => {
      if (t.serviceId !== serviceId) return;
      if (document.hidden) {
        hidden.push(t);
        if (hidden.length > HISTORY_POINTS) hidden = hidden.slice(-HISTORY_POINTS);
        return;
      }
      setHistory((prev) => mergeTicks(prev, [t]));
    };
    const onVisibility = () => {
      if (document.hidden || hidden.length === 0) return;
      const caught = hidden;
      hidden = [];
      setHistory((prev) => mergeTicks(prev, caught));
    };
    document.addEventListener("visibilitychange", onVisibility);
    const onService = (v: ServiceView) => {
      if (v.id === serviceId) setService(v);
    };
    const onTraffic = (t: TrafficStatus & { serviceId: string }) => {
      // the collector names the service in every traffic push
      if (t.serviceId === serviceId) setTraffic(t);
    };
    watchCounts.set(serviceId, (watchCounts.get(serviceId) ?? 0) + 1);
    s.on("connect", watch);
    s.on("tick", onTick);
    s.on("service", onService);
    s.on("traffic", onTraffic);
    if (s.connected) watch();
    return () => {
      alive = false;
      document.removeEventListener("visibilitychange", onVisibility);
      s.off("connect", watch);
      s.off("tick", onTick);
      s.off("service", onService);
      s.off("traffic", onTraffic);
      const n = (watchCounts.get(serviceId) ?? 1) - 1;
      if (n <= 0) {
        watchCounts.delete(serviceId);
        s.emit("unwatch", { serviceId });
      } else watchCounts.set(serviceId, n);
    };
  }, [serviceId]);

  const last = history.length ? history[history.length - 1] : null;
  return { service, history, last, traffic, connection, setService, setTraffic };
}
