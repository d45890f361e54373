-- A service's own actions per instance (issue 14, item 1): [{name, method, path, port,
-- body?, confirm?}] as JSON, checked by lib/core/service.ts; none by default.
ALTER TABLE "Service" ADD COLUMN "actions" TEXT NOT NULL DEFAULT '[]';
