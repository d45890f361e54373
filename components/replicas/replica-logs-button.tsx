"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { LogsDialog } from "@/components/replicas/logs-dialog";

/** A viewer's one replica action: read its logs (secrets replaced by the server, lib/services/replica-logs.ts). */
export function ReplicaLogsButton({ replicaId }: { replicaId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="flex flex-wrap items-center gap-1.5" data-testid="replica-viewer-actions">
      <Button size="sm" variant="secondary" aria-label={`Logs of replica ${replicaId}`} onClick={() => setOpen(true)}>
        Logs
      </Button>
      {open && <LogsDialog replicaId={replicaId} onClose={() => setOpen(false)} />}
    </div>
  );
}
