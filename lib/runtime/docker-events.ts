/**
 * Docker's event stream as RuntimeEvents: one stream, filtered by Switchyard's labels,
 * open only while someone listens, reconnected with backoff (asking from the second of
 * the last event seen, so nothing is lost and replays are dropped).
 */
import type Docker from "dockerode";
import { describeExit } from "./exit-reason";
import { LABEL_MANAGED, LABEL_REPLICA, LABEL_SERVICE, type RuntimeEvent } from "./types";

type DockerEventMessage = {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  time?: number;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
};

export type DockerEventsOptions = {
  docker: Docker;
  /** label filters the stream asks for (managed=true, and this panel's id when it has one) */
  labels: string[];
  /** how many listeners there are: no stream while there are none */
  listeners: () => number;
  emit: (e: RuntimeEvent) => void;
  /** a container died (its cached stats are stale) */
  onDie: (containerId: string) => void;
};

export const isManagedLabels = (labels: Record<string, string> | null | undefined): labels is Record<string, string> =>
  labels?.[LABEL_MANAGED] === "true" && Boolean(labels[LABEL_REPLICA]);

export function createDockerEvents(opts: DockerEventsOptions) {
  let events: NodeJS.ReadableStream | null = null;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let backoffMs = 500;
  let lastEventSeconds: number | undefined;
  const seenEvents: string[] = [];
  const oomSeen = new Set<string>();

  function handleEvent(msg: DockerEventMessage): void {
    if (msg.Type !== "container") return;
    const action = msg.Action ?? msg.status ?? "";
    const id = msg.Actor?.ID ?? msg.id ?? "";
    const key = `${id}:${action}:${msg.timeNano ?? msg.time}`;
    if (seenEvents.includes(key)) return; // replayed after a reconnect (since=)
    seenEvents.push(key);
    if (seenEvents.length > 500) seenEvents.splice(0, seenEvents.length - 500);
    if (msg.time) lastEventSeconds = msg.time;
    const attrs = msg.Actor?.Attributes ?? {};
    if (!isManagedLabels(attrs)) return;
    const base = { replicaId: attrs[LABEL_REPLICA], serviceId: attrs[LABEL_SERVICE] ?? "" };
    let event: RuntimeEvent | null = null;
    if (action === "oom") {
      oomSeen.add(id);
      event = { kind: "oom", ...base, reason: describeExit({ exitCode: null, oomKilled: true }) };
    } else if (action === "die") {
      opts.onDie(id);
      const exitCode = attrs.exitCode !== undefined ? Number(attrs.exitCode) : null;
      const oomKilled = oomSeen.delete(id);
      event = { kind: "died", ...base, exitCode, reason: describeExit({ exitCode, oomKilled }) };
    } else if (action === "start") {
      event = { kind: "started", ...base };
    }
    if (event) opts.emit(event);
  }

  function scheduleReconnect(): void {
    if (opts.listeners() === 0 || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, backoffMs);
    reconnectTimer.unref();
    backoffMs = Math.min(backoffMs * 2, 30_000);
  }

  async function connect(): Promise<void> {
    if (opts.listeners() === 0 || events) return;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await opts.docker.getEvents({
        since: lastEventSeconds,
        filters: { type: ["container"], label: opts.labels, event: ["start", "die", "oom"] },
      });
    } catch {
      scheduleReconnect();
      return;
    }
    if (opts.listeners() === 0) {
      (stream as unknown as { destroy(): void }).destroy();
      return;
    }
    events = stream;
    backoffMs = 500;
    let buffered = "";
    stream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          handleEvent(JSON.parse(line));
        } catch {
          /* a line we do not understand */
        }
      }
    });
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      if (events === stream) events = null;
      scheduleReconnect();
    };
    stream.on("end", onEnd);
    stream.on("close", onEnd);
    stream.on("error", onEnd);
  }

  return {
    /** The first listener arrived: open the stream. */
    watch(): void {
      // Ask from the second of subscribing, so events before the stream connects are not lost.
      lastEventSeconds ??= Math.floor(Date.now() / 1000);
      void connect();
    },
    /** The last listener left: close it. */
    unwatch(): void {
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      lastEventSeconds = undefined;
      const stream = events;
      events = null;
      if (stream) (stream as unknown as { destroy(): void }).destroy();
    },
  };
}
