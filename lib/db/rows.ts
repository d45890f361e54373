import { rulesSchema, type Rules } from "@/lib/core/rules";

/**
 * Rows as the database stores them, parsed into the domain's types in one place:
 * JSON columns are checked here, not cast where they are read.
 */

/** A service's `rules` column: checked against the one rules schema. */
export function parseRules(json: string): Rules {
  return rulesSchema.parse(JSON.parse(json));
}
