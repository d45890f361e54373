import type { AdminState, Algorithm, Rules } from "@/lib/core/rules";
import type { ExecError } from "@/lib/process/exec";
import type { ServerCounters } from "@/lib/core/rates";

/**
 * The engine ports. An engine is the balancer (HAProxy, nginx, builtin, traefik).
 * Every engine is a `Renderer` (pure: the rules model to config text); the ones the
 * panel runs (all but Traefik, which is export only) are also a `RunningEngine`
 * (check, apply, fast paths, stats, supervision: I/O). Adapters declare
 * `satisfies Renderer` / `implements RunningEngine` and are picked by
 * lib/engines/registry.ts; each engine's facts (label, file format, check command,
 * capabilities) are in lib/engines/descriptors.ts.
 */

export type EngineKind = "haproxy" | "nginx" | "builtin" | "traefik";

/** The engines the panel runs (Traefik is export only). */
export type RunningEngineKind = Exclude<EngineKind, "traefik">;

/** One backend server = one replica, as the engine sees it. */
export type BalancerServer = {
  /** opaque, stable replica id (also used as the sticky-cookie value where the engine allows) */
  replicaId: string;
  /** engine-safe server name derived from the replica id: [a-z0-9-] only */
  name: string;
  host: string; // IPv4 literal or DNS label (docker bridge); validated before rendering
  port: number;
  weight: number; // 0..256
  adminState: AdminState;
  /**
   * A container's name on a Docker network (runtime docker): the engine starts even when it
   * does not resolve yet (a container gone while a compose stack was stopped). Any other name
   * that does not resolve is an error the engine's check reports (a typo in an address).
   */
  resolveLater?: boolean;
};

export type BalancerService = {
  id: string;
  /** DNS label; used for backend names */
  name: string;
  rules: Rules;
  servers: BalancerServer[];
};

/** A certificate as a config names it: files only (the key never enters a config or a revision). */
export type BalancerCertificate = {
  id: string;
  /** the DNS names it is for (SAN), for SNI */
  names: string[];
  /** the chain, PEM */
  certFile: string;
  /** the private key, PEM, mode 600 */
  keyFile: string;
  /** chain + key in one file (HAProxy's `crt`), mode 600 */
  pemFile: string;
};

/**
 * One port the balancer serves (issue 13). Routes name the listeners they are served
 * on (`ServiceRoute.listeners`; none: the default listener, "default").
 */
export type BalancerListener = {
  name: string;
  host: string;
  port: number;
  protocol: "http" | "https";
  /** http: every request is answered with a 308 to https on this port (same host and path) */
  redirectToHttpsPort?: number;
  /** https: the default certificate first, then the ones picked by the SNI name */
  certificates?: BalancerCertificate[];
};

/** The whole balancer configuration: what a revision snapshots. */
export type BalancerConfig = {
  /** the default listener (BALANCER_PORT), as before listeners; also listeners[0] when `listeners` is given */
  listen: { host: string; port: number };
  /** every listener, the default one first; absent (configs before issue 13): the default listener alone, plain http */
  listeners?: BalancerListener[];
  services: BalancerService[];
};

/** The listeners of a config: `listeners`, or the default listener alone for a config that has none. */
export function listenersOf(config: BalancerConfig): BalancerListener[] {
  return config.listeners && config.listeners.length > 0 ? config.listeners : [{ name: "default", host: config.listen.host, port: config.listen.port, protocol: "http" }];
}

export type Capability =
  | `algorithm.${Algorithm}`
  | "sticky.cookie"
  | "sticky.source"
  | "healthCheck.active"
  | "passive"
  | "retries"
  | "retries.redispatch"
  | "drain"
  | "slowStart"
  | "route.host"
  | "route.stripPrefix"
  | "dynamicServers"
  | "hitlessReload";

export type EngineCapabilities = {
  /** capability -> true, or a human reason why not */
  [K in Capability]: true | string;
};

/**
 * Why an engine refused or failed: `error` in words (the engine's own lines), and
 * `cause`, the command that said so when one ran (haproxy -c, nginx -t, nginx -s
 * reload), with its stderr and exit code. lib/engines/errors.ts turns it into the
 * AppError.
 */
export type EngineFailure = { error: string; cause?: ExecError };

export type CheckResult = { ok: true } | ({ ok: false } & EngineFailure);

export type ApplyResult =
  | { ok: true; reloaded: boolean }
  | ({ ok: false; rolledBack: boolean } & EngineFailure);

export type ServerHealth = {
  /** what the engine says: up, down, maint, drain, or no-check */
  status: "up" | "down" | "maint" | "drain" | "nocheck" | "unknown";
  /** last check result / reason as the engine reports it, e.g. "L7STS 503", "L4CON" */
  reason: string | null;
  /** ms since the last status change, if known */
  lastChangeMs: number | null;
};

/**
 * Per-server cumulative counters (ServerCounters: requests, responses by class, connection
 * errors, retries, redispatches, the optional latency distribution since start: bucket upper
 * bound ms -> count). Counters may reset (engine reload): consumers must tolerate a decrease.
 */
export type ServerStats = ServerCounters & {
  service: string; // service name
  server: string; // server name
  activeConnections: number;
  /** optional average response time in ms over recent requests (HAProxy rtime) */
  avgResponseMs?: number;
  health: ServerHealth;
  // ---- the rest of a stats table (HAProxy's stats page, NGINX Plus's upstreams tab). Each is
  // optional: an engine fills what it really has; absent means "this engine cannot say", never 0.
  /** most concurrent sessions seen (HAProxy smax) */
  maxSessions?: number;
  /** configured session limit, null when unlimited (HAProxy slim) */
  sessionLimit?: number | null;
  /** requests waiting for this server now, and the most seen (HAProxy qcur, qmax) */
  queueCurrent?: number;
  queueMax?: number;
  /** bytes from clients to the server, and back (HAProxy bin, bout) */
  bytesIn?: number;
  bytesOut?: number;
  /** seconds this server has been down in total (HAProxy downtime) */
  downtimeS?: number;
  /** effective weight as the engine uses it now (HAProxy weight) */
  weight?: number;
  /** admin state as the engine holds it (HAProxy: MAINT / DRAIN in status) */
  adminState?: AdminState;
  /** the last health check: its duration, how many checks failed and how often it went down (HAProxy check_duration, chkfail, chkdown) */
  check?: { durationMs: number | null; failures: number | null; downTransitions: number | null };
};

export type EngineStats = { at: number; servers: ServerStats[] };

export type EngineStatus = {
  kind: EngineKind;
  running: boolean;
  version: string | null;
  mode: "supervised" | "external" | "export-only";
  pid: number | null;
  listen: { host: string; port: number };
  /** where it runs / where its files are, for the UI */
  location: string;
  /** true when the panel found it already running at start and adopted it */
  adopted: boolean;
  /** engines whose per-server counts the panel derives itself (nginx) */
  statsFeed?: StatsFeed;
  error?: string;
};

/**
 * Where per-server counts come from when the panel derives them from what the
 * engine writes (nginx's access log), and what could not be counted: losses
 * are shown, never silent.
 */
export type StatsFeed = {
  /** e.g. "nginx access log" */
  source: string;
  file: string;
  /** records counted since the panel started reading */
  records: number;
  /** records known to be lost (lines that were not records, or were cut off) */
  lost: number;
  /** losses of unknown size */
  gaps: number;
  /** what `lost` and `gaps` are made of, in words; null when nothing was lost */
  detail: string | null;
  /** bytes written and not read yet (0 for a datagram feed) */
  lagBytes: number;
  rotations: number;
  /** the last failure (a rotation the engine refused, a read error) */
  error?: string;
};

/** Every engine, Traefik included: what exports, previews and capability checks need. */
export interface Renderer {
  readonly kind: EngineKind;
  readonly capabilities: EngineCapabilities;
  /** Pure: config model -> engine config text. Never pastes unvalidated text. */
  render(config: BalancerConfig): string;
  /**
   * Config text (rendered or live) as a browser may see it: every secret replaced by
   * SECRET_PLACEHOLDER. Only engines whose configs hold a secret (HAProxy's
   * dynamic-cookie-key) have it; use `shownConfig`.
   */
  redact?(text: string): string;
}

/** An engine the panel runs: a renderer plus check, apply, fast paths, stats and supervision. */
export interface RunningEngine extends Renderer {
  readonly kind: RunningEngineKind;
  /** The engine's own validation of a rendered config (haproxy -c, nginx -t ...). */
  check(rendered: string): Promise<CheckResult>;
  /** Atomic + hitless; on any failure restores the previous file and running config. */
  apply(rendered: string, config: BalancerConfig): Promise<ApplyResult>;
  /** The config text currently live (file on disk), or null before the first apply. */
  liveConfig(): Promise<string | null>;

  /** Fast paths without reload where the engine allows them; otherwise they may re-apply. */
  addServer(service: BalancerService, server: BalancerServer): Promise<void>;
  removeServer(service: BalancerService, serverName: string): Promise<void>;
  setServerState(service: BalancerService, serverName: string, state: AdminState): Promise<void>;
  setWeight(service: BalancerService, serverName: string, weight: number): Promise<void>;
  /**
   * Points a server at another address (a network fault's proxy, and back to the
   * replica's own): HAProxy at run time (hitless), builtin through its control socket,
   * nginx by re-applying. The stored model gets it too, so a reload keeps it.
   */
  setServerAddress(service: BalancerService, serverName: string, host: string, port: number): Promise<void>;

  stats(): Promise<EngineStats>;
  /**
   * The model behind the live config: what the engine was last given, its run-time
   * changes (weight, state, address) included; null before the first apply. The engine
   * supervisor compares it with the database when it adopts a running engine.
   */
  servedConfig(): Promise<BalancerConfig | null>;

  /** Supervision: start (or adopt a running instance), stop, status. */
  start(initial: BalancerConfig): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<EngineStatus>;
  /**
   * Failures the engine recovered from by itself since the last call, in words (nginx's
   * master respawns a killed worker: status() never sees it). The controller's engine
   * watchdog records each as an event. Optional: engines without such failures omit it.
   */
  incidents?(): Promise<EngineIncident[]>;
  /**
   * Only engines without active health checks (nginx OSS; descriptor `panelProbes`):
   * the panel's prober reports the replicas ("host:port" -> reason) whose health check
   * fails, and the engine takes them out of rotation. The prober runs only for engines
   * that have it.
   */
  setProbeDown?(down: ReadonlyMap<string, string>): Promise<void>;
}

/** A failure an engine healed by itself: what happened in words (no pid: viewers read it), and the process it concerned. */
export type EngineIncident = { message: string; pid: number | null };

/** What the panel shows instead of a secret in a config (previews, diffs, revisions, exports). */
export const SECRET_PLACEHOLDER = "<secret>";

/** `text` with the engine's secrets replaced: the only form of a config that may reach a browser. */
export function shownConfig(engine: Pick<Renderer, "redact">, text: string): string {
  return engine.redact ? engine.redact(text) : text;
}

/** Engine-safe server name for a replica id. */
export function serverNameFor(replicaId: string): string {
  return `r-${replicaId.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 24)}`;
}
