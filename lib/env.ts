import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { remember } from "./remember";

/**
 * All configuration, parsed once. Nothing else reads process.env.
 * A bad value stops the start with a message naming the variable.
 */

const portSchema = z.coerce.number().int().min(1).max(65535);
const boolSchema = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const rangeSchema = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, "a range like 20000-20999")
  .transform((v) => {
    const [from, to] = v.split("-").map(Number);
    return { from, to };
  })
  .refine((r) => r.from >= 1024 && r.to <= 65535 && r.from < r.to, "from < to, inside 1024-65535");

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: portSchema.default(3000),
  HOST: z.string().regex(/^[0-9a-zA-Z.:-]+$/, "an IP address or host name").default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .regex(/^file:.+/, "a SQLite URL such as file:./data/switchyard.db")
    .optional(),
  ADMIN_USER: z.string().regex(/^[a-zA-Z0-9_.-]{3,32}$/, "3-32 letters, digits, '_', '.', '-'").optional(),
  ADMIN_PASSWORD: z.string().min(10, "at least 10 characters").max(200).optional(),
  /**
   * A file holding the first admin's password (a Docker/compose secret at /run/secrets/…),
   * instead of ADMIN_PASSWORD: the password then appears in no environment (`docker inspect`,
   * the panel's child processes). An empty file counts as unset (the setup page asks).
   */
  ADMIN_PASSWORD_FILE: z.string().optional(),
  SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(12),
  /** extra origins allowed for mutating requests, comma separated (the panel's own origin is always allowed) */
  ALLOWED_ORIGINS: z.string().default(""),
  /** the address people use to reach the panel when it is not localhost or HOST, e.g. https://panel.example.com behind a proxy */
  PUBLIC_URL: z
    .string()
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
      } catch {
        return false;
      }
    }, "an http(s) URL such as https://panel.example.com")
    .optional(),
  RUNTIME: z.enum(["process", "docker"]).default("process"),
  /** the unprivileged user a panel running as root starts process replicas as (scripts/ci-setup.sh creates it) */
  REPLICA_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "a user name such as switchyard-replica")
    .refine((v) => v !== "root", "not root: replicas never run as root")
    .default("switchyard-replica"),
  /** the unprivileged user the workers of a supervised HAProxy run as when the panel is root (lib/engines/engine-user.ts) */
  ENGINE_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "a user name such as switchyard-engine")
    .refine((v) => v !== "root", "not root: the balancer's workers never run as root")
    .default("switchyard-engine"),
  PORT_RANGE: rangeSchema.prefault("20000-20999"),
  /** loopback ports of the per-replica fault proxies (network faults, docs/faults-network.md) */
  FAULT_PROXY_PORTS: rangeSchema.prefault("19000-19999"),
  MAX_REPLICAS: z.coerce.number().int().min(1).max(200).default(20),
  DOCKER_HOST: z.string().optional(),
  DOCKER_NETWORK: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, "host or a docker network name").default("host"),
  REPLICA_IMAGE: z.string().regex(/^[a-z0-9][a-z0-9._/:-]{0,199}$/, "an image reference").default("switchyard/replica:latest"),
  /**
   * Docker Swarm (experimental, runtime "swarm"): a manager's Engine API, unix:///path/docker.sock or
   * tcp://host:port. Unset: the panel refuses swarm services.
   */
  SWARM_MANAGER: z.string().regex(/^(unix:\/\/\/[A-Za-z0-9._/-]{1,200}|tcp:\/\/[A-Za-z0-9.-]{1,200}:\d{1,5})$/, "unix:///path/to/docker.sock or tcp://host:port").optional(),
  /** the attachable overlay the swarm services' tasks and balancers join */
  SWARM_NETWORK: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, "a network name").default("switchyard-swarm"),
  /** the image of each swarm service's HAProxy (its entrypoint is haproxy; scripts/swarm-bed.sh haproxy-image builds one) */
  SWARM_BALANCER_IMAGE: z.string().regex(/^[a-z0-9][a-z0-9._/:-]{0,199}$/, "an image reference").default("switchyard/haproxy-bed:local"),
  /** ports a swarm service's balancer publishes on a manager node: two per service (traffic, then its management listener) */
  SWARM_BALANCER_PORTS: rangeSchema.prefault("18000-18099"),
  ENGINE: z.enum(["auto", "haproxy", "builtin", "nginx"]).default("auto"),
  BALANCER_PORT: portSchema.default(8080),
  ENGINE_MODE: z.enum(["supervised", "external"]).default("supervised"),
  HAPROXY_BIN: z.string().default("haproxy"),
  HAPROXY_CONFIG: z.string().optional(),
  HAPROXY_MASTER_SOCKET: z.string().optional(),
  HAPROXY_RUNTIME_SOCKET: z.string().optional(),
  /** the builtin proxy's processes serving traffic: 0 = one per core, 1 = a single process (issue 18) */
  BUILTIN_WORKERS: z.coerce.number().int().min(0).max(64).default(0),
  /** the most keep-alive connections the builtin proxy opens to one server (all its workers together) */
  BUILTIN_UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(64),
  NGINX_BIN: z.string().default("nginx"),
  NGINX_CONFIG: z.string().optional(),
  DEMO_SERVICE: boolSchema.default(true),
  CONTROLLER: boolSchema.default(true),
  TRUST_PROXY: boolSchema.default(false),
  /**
   * Kubernetes (experimental, runtime "kubernetes"): the API server and a bearer token (or a
   * token file), an optional CA file and namespace. lib/runtime/kubernetes-api.ts
   * kubernetesConfig checks each in full (https, or http to loopback only; the token's
   * alphabet; the files' sizes) when the runtime is first used.
   */
  KUBERNETES_API: z.string().max(300).optional(),
  KUBERNETES_TOKEN: z.string().max(16384).optional(),
  KUBERNETES_TOKEN_FILE: z.string().max(4096).optional(),
  KUBERNETES_CA_FILE: z.string().max(4096).optional(),
  KUBERNETES_NAMESPACE: z.string().max(63).optional(),
  /** a Deployment's progressDeadlineSeconds: a rolling update with no progress for this long is reported stalled */
  KUBERNETES_PROGRESS_DEADLINE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  /**
   * Tests only, never in production: every API request and answer is checked against the
   * OpenAPI document (lib/openapi/contract.ts); an answer outside it becomes a 500
   * "contract violation". The test helpers set it (tests/helpers/panel.ts, temp-db.ts).
   */
  SWITCHYARD_CONTRACT: boolSchema.default(false),
  /** with SWITCHYARD_CONTRACT: a file each checked request is appended to (JSON lines), for the coverage list */
  SWITCHYARD_CONTRACT_LOG: z.string().optional(),
});

export type Env = z.infer<typeof envSchema> & { dataDir: string; databaseUrl: string };

export function parseEnv(source: Record<string, string | undefined>): Env {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== "") cleaned[k] = v;
  const bad = (lines: string[]) => new Error(`Switchyard cannot start: bad configuration\n${lines.join("\n")}\nSee .env.example for every variable.`);
  const passwordFile = cleaned.ADMIN_PASSWORD_FILE;
  if (passwordFile !== undefined) {
    if (cleaned.ADMIN_PASSWORD !== undefined) throw bad(["  ADMIN_PASSWORD_FILE: set ADMIN_PASSWORD or ADMIN_PASSWORD_FILE, not both"]);
    const password = readPasswordFile(passwordFile);
    if (typeof password !== "string") throw bad([`  ADMIN_PASSWORD_FILE: cannot read ${passwordFile}: ${password.error}`]);
    if (password !== "") cleaned.ADMIN_PASSWORD = password;
  }
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const name = (p: PropertyKey[]) => (p.join(".") === "ADMIN_PASSWORD" && passwordFile !== undefined ? `ADMIN_PASSWORD_FILE (${passwordFile})` : p.join("."));
    throw bad(result.error.issues.map((i) => `  ${name(i.path)}: ${i.message}`));
  }
  const dataDir = path.resolve(result.data.DATA_DIR);
  const databaseUrl = result.data.DATABASE_URL ?? `file:${path.join(dataDir, "switchyard.db")}`;
  return { ...result.data, dataDir, databaseUrl };
}

/** The file's text without one final line break (`echo pw > file`), or why it cannot be read. */
function readPasswordFile(file: string): string | { error: string } {
  try {
    // a path known only at run time: not a file for Turbopack to trace into the build
    return readFileSync(/*turbopackIgnore: true*/ file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

export function env(): Env {
  return remember("env", () => parseEnv(process.env));
}
