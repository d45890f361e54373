"use client";

import { useServiceLive, type ServiceSnapshot } from "@/lib/client/live";
import { Card } from "@/components/ui/card";
import { ServerStatsTable } from "@/components/stats/server-stats-table";

/**
 * One service's stats table, live: it watches the service's room like the dashboard does
 * (one socket per tab; a second watcher of the same service shares it).
 */
export function LiveServerStats({ initial, engine, title }: { initial: ServiceSnapshot; engine: string; title?: string }) {
  const { history, service } = useServiceLive(initial.service.id, initial);
  const label = title ?? `Servers of ${service.name}`;
  return (
    // off screen (below the charts on the service page) the browser skips the table's style, layout and paint
    <div className="min-w-0 [contain-intrinsic-size:auto_400px] [content-visibility:auto]" data-testid={`server-stats-card-${service.name}`}>
      <Card title={label}>
        <ServerStatsTable history={history} engine={engine} label={label} />
      </Card>
    </div>
  );
}
