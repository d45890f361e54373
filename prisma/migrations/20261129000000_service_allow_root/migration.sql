-- Docker replicas of a service may run as the image's root user only when an admin allows it (issue 10).
ALTER TABLE "Service" ADD COLUMN "allowRoot" BOOLEAN NOT NULL DEFAULT false;
