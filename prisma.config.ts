import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { parseEnv } from "./lib/env";

// Prisma 6 with the JS engine and a driver adapter: the CLI uses its bundled
// WebAssembly schema engine, so nothing is downloaded (see RECIPES).
const { databaseUrl } = parseEnv(process.env);
// schema.prisma reads env("DATABASE_URL"); the CLI does not load .env when a config file exists.
process.env.DATABASE_URL = databaseUrl;

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  async adapter() {
    return new PrismaBetterSQLite3({ url: databaseUrl });
  },
});
