-- A service's autoscaler (issue 16, part 1): on/off, min/max replicas, the scale-down
-- window, targets as JSON (checked by lib/core/autoscale.ts), and the pause a person's
-- slider sets. Deleted with its service.
CREATE TABLE "Autoscaler" (
    "serviceId" TEXT NOT NULL PRIMARY KEY,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "minReplicas" INTEGER NOT NULL DEFAULT 2,
    "maxReplicas" INTEGER NOT NULL DEFAULT 10,
    "windowS" INTEGER NOT NULL DEFAULT 300,
    "targets" TEXT NOT NULL DEFAULT '[]',
    "pausedAt" DATETIME,
    "pausedBy" TEXT,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Autoscaler_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
