import { EventEmitter } from "node:events";
import { db } from "@/lib/db/client";
import { remember } from "@/lib/remember";

export type EventLevel = "info" | "warn" | "error";

export type SwitchyardEvent = {
  id: number;
  at: string;
  serviceId: string | null;
  replicaId: string | null;
  kind: string;
  level: EventLevel;
  message: string;
  actor: string;
  data: unknown;
};

export type NewEvent = {
  kind: string;
  message: string;
  actor: string;
  level?: EventLevel;
  serviceId?: string | null;
  replicaId?: string | null;
  data?: unknown;
};

/** In-process bus: the realtime layer forwards these to socket.io rooms. */
export function bus(): EventEmitter {
  return remember("bus", () => {
    const e = new EventEmitter();
    e.setMaxListeners(100);
    return e;
  });
}

/** Every state change and every audit-worthy action goes through here. */
export async function recordEvent(e: NewEvent): Promise<SwitchyardEvent> {
  const row = await db().event.create({
    data: {
      kind: e.kind,
      message: e.message.slice(0, 2000),
      actor: e.actor,
      level: e.level ?? "info",
      serviceId: e.serviceId ?? null,
      replicaId: e.replicaId ?? null,
      data: e.data === undefined ? null : JSON.stringify(e.data),
    },
  });
  const event = toEvent(row);
  bus().emit("event", event);
  return event;
}

export function toEvent(row: {
  id: number;
  at: Date;
  serviceId: string | null;
  replicaId: string | null;
  kind: string;
  level: string;
  message: string;
  actor: string;
  data: string | null;
}): SwitchyardEvent {
  let data: unknown = null;
  if (row.data) {
    try {
      data = JSON.parse(row.data);
    } catch {
      data = null;
    }
  }
  return {
    id: row.id,
    at: row.at.toISOString(),
    serviceId: row.serviceId,
    replicaId: row.replicaId,
    kind: row.kind,
    level: (["info", "warn", "error"].includes(row.level) ? row.level : "info") as EventLevel,
    message: row.message,
    actor: row.actor,
    data,
  };
}
