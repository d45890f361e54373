import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "@/lib/db/generated/client";
import { env } from "@/lib/env";
import { remember } from "@/lib/remember";

export type Db = PrismaClient;

/** The one Prisma client of this process (server.ts and Next bundles share it). */
export function db(): PrismaClient {
  return remember("prisma", () => {
    const adapter = new PrismaBetterSQLite3({ url: env().databaseUrl });
    return new PrismaClient({ adapter });
  });
}
