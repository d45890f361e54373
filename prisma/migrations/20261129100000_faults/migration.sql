-- Faults that need nothing from the app (issue 14, item 2): one row per fault the panel
-- put on a replica, with what it changed, its time limit and how it ended.
CREATE TABLE "Fault" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "replicaId" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "params" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "endedAt" DATETIME,
    "endReason" TEXT
);
CREATE INDEX "Fault_replicaId_endedAt_idx" ON "Fault"("replicaId", "endedAt");
CREATE INDEX "Fault_endedAt_idx" ON "Fault"("endedAt");

-- Does the app speak Switchyard's replica protocol? Existing services keep the protocol's
-- buttons (true); a service created from a user's own image or command gets false.
ALTER TABLE "Service" ADD COLUMN "replicaProtocol" BOOLEAN NOT NULL DEFAULT true;
