-- Network faults (issue 14, item 2): while a fault is active the balancer's server for
-- the replica points at its fault proxy (host:port) instead of its data address; null
-- when no network fault is set, so the data path is the replica's own.
ALTER TABLE "Replica" ADD COLUMN "faultAddr" TEXT;
