"use client";

import { useEffect, useState } from "react";
import type { MetricsHistory } from "@/lib/services/metrics-history";
import type { StoredRange } from "@/lib/core/metric-history";
import { api } from "@/lib/client/api";

/** How often a stored range is read again while it is shown (a new minute point lands once a minute). */
const REFRESH_MS = 30_000;

export type StoredHistory = { data: MetricsHistory | null; error: string | null; loading: boolean };

/**
 * The charts' points for a range longer than the live 5 minutes, from the panel's
 * stored minute points (GET /api/services/:id/metrics). `range` null: nothing to read
 * (the live range). Read again every 30 s unless `paused`, and not while the tab is
 * hidden.
 */
export function useStoredHistory(serviceId: string, range: StoredRange | null, paused: boolean): StoredHistory {
  const [state, setState] = useState<StoredHistory>({ data: null, error: null, loading: false });
  const [generation, setGeneration] = useState(0);
  // read when the range is chosen, and again on each refresh
  useEffect(() => {
    if (!range) return;
    let alive = true;
    setState((s) => ({ data: s.data?.range === range ? s.data : null, error: null, loading: true }));
    api<MetricsHistory>(`/api/services/${encodeURIComponent(serviceId)}/metrics?range=${range}`)
      .then((data) => alive && setState({ data, error: null, loading: false }))
      .catch((e: unknown) => alive && setState((s) => ({ ...s, error: e instanceof Error ? e.message : String(e), loading: false })));
    return () => {
      alive = false;
    };
  }, [serviceId, range, generation]);
  // pausing stops the refreshes and keeps what is shown
  useEffect(() => {
    if (!range || paused) return;
    const timer = setInterval(() => {
      if (!document.hidden) setGeneration((g) => g + 1);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [range, paused]);
  return range ? state : { data: null, error: null, loading: false };
}
