"use client";

import { useCallback, useEffect, useState } from "react";
import type { SwitchyardEvent } from "@/lib/events";
import type { AutoscaleView } from "@/lib/core/autoscale";
import { api } from "@/lib/client/api";
import { liveSocket } from "@/lib/client/live";

/** How often the card asks for the loop's last word while the autoscaler runs (its decisions arrive as events at once). */
const STATUS_REFRESH_MS = 10_000;

/**
 * A service's autoscaler as the page shows it: read again when one of its events arrives
 * on the live channel (a decision, a pause, a resume, new settings), and every 10 s while
 * it runs for the loop's last evaluation ("stays at 5: ...").
 */
export function useAutoscale(serviceId: string, initial: AutoscaleView | null): { view: AutoscaleView | null; set: (v: AutoscaleView) => void; refresh: () => void } {
  const [view, setView] = useState(initial);
  const refresh = useCallback(() => {
    void api<{ autoscale: AutoscaleView }>(`/api/services/${serviceId}/autoscale`)
      .then((r) => setView(r.autoscale))
      .catch(() => undefined);
  }, [serviceId]);
  useEffect(() => {
    const s = liveSocket();
    const onEvent = (e: SwitchyardEvent) => {
      if (e.serviceId === serviceId && e.kind.startsWith("autoscale.")) refresh();
    };
    s.on("event", onEvent);
    return () => {
      s.off("event", onEvent);
    };
  }, [serviceId, refresh]);
  const running = Boolean(view?.enabled && !view.paused);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(refresh, STATUS_REFRESH_MS);
    return () => clearInterval(t);
  }, [running, refresh]);
  return { view, set: setView, refresh };
}
