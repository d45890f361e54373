-- The memory threshold is a setting of the service (issue 12, item 9): where the bundled
-- replica's /health turns 503, as a share of its memory limit (10-99 %, default 80).
ALTER TABLE "Service" ADD COLUMN "memoryThresholdPercent" INTEGER NOT NULL DEFAULT 80;

-- Before, the only way to change it was MEMORY_THRESHOLD_PERCENT in the service's
-- environment; that name is now set by Switchyard. A whole number there moves into the
-- new column (brought into 10-99), and the variable leaves the environment.
UPDATE "Service"
SET "memoryThresholdPercent" = MIN(99, MAX(10, CAST(json_extract("env", '$.MEMORY_THRESHOLD_PERCENT') AS INTEGER)))
WHERE json_valid("env")
  AND json_type("env", '$.MEMORY_THRESHOLD_PERCENT') = 'text'
  AND json_extract("env", '$.MEMORY_THRESHOLD_PERCENT') <> ''
  AND json_extract("env", '$.MEMORY_THRESHOLD_PERCENT') NOT GLOB '*[^0-9]*'
  AND length(json_extract("env", '$.MEMORY_THRESHOLD_PERCENT')) <= 3;

UPDATE "Service"
SET "env" = json_remove("env", '$.MEMORY_THRESHOLD_PERCENT')
WHERE json_valid("env") AND json_type("env", '$.MEMORY_THRESHOLD_PERCENT') IS NOT NULL;
