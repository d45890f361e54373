-- Progressive rollouts (issue 16, part 2): a replica's version (the spec hash of what it
-- runs; null: the service's current spec) and the Rollout record with its steps, state,
-- the old/new desired counts the reconciler follows, and the last gate figures.
ALTER TABLE "Replica" ADD COLUMN "version" TEXT;

CREATE TABLE "Rollout" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "serviceId" TEXT NOT NULL,
    "strategy" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "fromVersion" TEXT NOT NULL,
    "toVersion" TEXT NOT NULL,
    "fromSpec" TEXT NOT NULL,
    "toSpec" TEXT NOT NULL,
    "plan" TEXT NOT NULL,
    "replicas" INTEGER NOT NULL,
    "step" INTEGER NOT NULL DEFAULT 0,
    "stepStartedAt" DATETIME,
    "oldDesired" INTEGER NOT NULL,
    "newDesired" INTEGER NOT NULL,
    "lastGate" TEXT,
    "reason" TEXT,
    "autoscalerPaused" BOOLEAN NOT NULL DEFAULT false,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "endedAt" DATETIME,
    CONSTRAINT "Rollout_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX "Rollout_serviceId_createdAt_idx" ON "Rollout"("serviceId", "createdAt");
