-- Issue 14, item 3: instances the panel did not start
ALTER TABLE "Service" ADD COLUMN "endpoints" TEXT;
ALTER TABLE "Service" ADD COLUMN "discover" TEXT;
