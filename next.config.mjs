import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * JavaScript, not TypeScript: Next.js compiles a next.config.ts with SWC each time the
 * server starts, which maps its 30 MB native module into the panel's process for good
 * (issue 18: the panel's RSS).
 *
 * @type {import("next").NextConfig}
 */
const config = {
  // Native modules and Node-only clients stay outside the bundle.
  serverExternalPackages: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "dockerode", "ssh2", "cpu-features", "socket.io", "undici", "prom-client", "esbuild"],
  poweredByHeader: false,
  outputFileTracingRoot: root,
  turbopack: { root },
  // The server reads run-time paths it is given (DATA_DIR, engine and cgroup files) and spawns
  // lib/ files and replica/server.js, so tracing follows folders by name: it picked up
  // tests/fixtures/{builtin,nginx,tls} and the SQLite file under data/. Those are never part of
  // the running panel (the Docker image leaves them out too, .dockerignore).
  outputFileTracingExcludes: { "/*": ["data/**", "tests/**", "docs/**", "bench/**", "test-results/**"] },
  // `npm test` type-checks the whole project with tsc --noEmit; the build does not repeat it.
  typescript: { ignoreBuildErrors: true },
};

export default config;
