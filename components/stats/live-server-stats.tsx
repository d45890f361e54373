"use client";

import { memo } from "react";
import { useServiceLive, type ServiceSnapshot } from "@/lib/client/live";
import { Card } from "@/components/ui/card";
import { ServerStatsTable } from "@/components/stats/server-stats-table";
import { HOLD_OFF_SCREEN_FROM, HoldOffScreen } from "@/components/ui/hold-off-screen";

const MemoTable = memo(ServerStatsTable);

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
        {/* with many servers the table off screen keeps the tick it showed and takes none until scrolled to */}
        <HoldOffScreen value={history} hold={service.instances.length >= HOLD_OFF_SCREEN_FROM}>
          {(h) => <MemoTable history={h} engine={engine} label={label} />}
        </HoldOffScreen>
      </Card>
    </div>
  );
}
