import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseEnv } from "../lib/env";
import { createUserCommand } from "../lib/runtime/replica-user";
import { prepareDb } from "./prepare-db";

/**
 * `npm start`: check the configuration, migrate the database, build the app
 * when there is no build or the sources are newer, then run server.ts.
 */
const root = path.resolve(__dirname, "..");

function newestMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "generated" || entry.name.startsWith(".")) continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function needsBuild(): boolean {
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (!fs.existsSync(buildId)) return true;
  const built = fs.statSync(buildId).mtimeMs;
  return ["app", "components", "lib"].some((d) => newestMtime(path.join(root, d)) > built);
}

/**
 * Replicas never run as root: a panel started as root runs them as REPLICA_USER, and its
 * HAProxy's workers as ENGINE_USER. The quick start is `npm install && npm start` on a fresh
 * machine, so create those users here when they are missing (scripts/ci-setup.sh does the
 * same for the test machine).
 */
function ensureSystemUser(name: string, what: string): void {
  if (process.getuid?.() !== 0) return;
  try {
    execFileSync("getent", ["passwd", name], { stdio: "ignore" });
    return;
  } catch {
    // missing: create it below
  }
  const argv = createUserCommand(name).split(" ");
  console.log(`[switchyard] creating the unprivileged user ${what}: ${argv.join(" ")}`);
  execFileSync(argv[0], argv.slice(1), { stdio: "inherit" });
}

try {
  const cfg = parseEnv(process.env);
  ensureSystemUser(cfg.REPLICA_USER, "replicas run as");
  ensureSystemUser(cfg.ENGINE_USER, "HAProxy's workers run as");
  prepareDb(root);
  if (needsBuild()) {
    console.log("[switchyard] building the web app (first start or changed sources; about a minute)…");
    execFileSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    });
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
(process.env as Record<string, string>).NODE_ENV = "production";
// tsx turns Node's source maps on, and then every module loaded later brings its map into
// memory: Next's own (node_modules/next/dist/**/*.js.map) and the build's chunks', with
// their sources, 30-40 MB of the panel's heap (issue 18: the panel's RSS). Stack traces
// then name the transpiled positions; `NODE_OPTIONS=--enable-source-maps npm start` keeps them.
if (!`${process.env.NODE_OPTIONS ?? ""} ${process.execArgv.join(" ")}`.includes("--enable-source-maps")) process.setSourceMapsEnabled(false);
require("../server");
