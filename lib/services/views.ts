import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import type { SwitchyardEvent } from "@/lib/events";
import { hasRole, type Role } from "@/lib/core/roles";
import type { Rules } from "@/lib/core/rules";
import type { StatsFeed } from "@/lib/engines/types";
import { actionsOf, instanceSourceOf, memoryThresholdOf, parseRules, runFieldsOf } from "@/lib/db/rows";
import type { Discover, ServiceAction } from "@/lib/core/service";

/**
 * What the API, the pages and the live channel show of replicas, services, the
 * balancer and events. Admin tokens never leave the server. A viewer gets the viewer
 * form of each, made here and only here (the `…For(role, …)` functions): environment
 * names without values, no command, no process ids, and no paths of this machine
 * (data folder, panel folder, engine files) in any text — configs, diffs, errors,
 * event messages.
 */
export type ReplicaView = {
  id: string;
  serviceId: string;
  state: string;
  health: string;
  healthReason: string | null;
  dataAddr: string | null;
  adminAddr: string | null;
  runtime: string;
  runtimeRef: string | null;
  adminState: string;
  weight: number;
  inEngine: boolean;
  startedAt: string | null;
  lastError: string | null;
  /** the faults the panel holds on it now (lib/faults), each with its time limit; the card counts down */
  faults?: FaultView[];
};

/** An active fault on a replica (pause, runtime stress, network fault), as the card shows it. */
export type FaultView = { id: string; kind: string; params: unknown; startedAt: string; expiresAt: string };

export type ServiceView = {
  id: string;
  name: string;
  runtime: string;
  image: string | null;
  command: string[] | null;
  dataPort: number;
  adminPort: number;
  /** a viewer gets the names with empty values */
  env: Record<string, string>;
  memoryLimitMb: number;
  /** where the replica app's /health turns 503: this share of the memory limit (a setting of the service, 10-99, default 80; MEMORY_THRESHOLD_PERCENT in the replica's environment) */
  memoryThresholdPercent: number;
  cpuLimit: number | null;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  rules: Rules;
  /** docker: the containers may run as the image's root user (set by an admin) */
  allowRoot: boolean;
  /** the app's own actions per instance (a viewer gets them without their bodies) */
  actions: ServiceAction[];
  /** runtime "external": the instances' addresses (the panel starts none); else null */
  endpoints: string[] | null;
  /** runtime "docker" discovering running containers by these labels (the panel starts none); else null */
  discover: Discover | null;
  /** the app speaks Switchyard's replica protocol (docs/replica-protocol.md): the card offers its Stress/Faults buttons */
  replicaProtocol: boolean;
  /** true in a viewer's view: env values and the command are withheld */
  redacted: boolean;
  createdAt: string;
  instances: ReplicaView[];
};

/** A replica row as Prisma returns it (dates as Date). */
type ReplicaRow = Omit<ReplicaView, "startedAt" | "faults"> & { startedAt: Date | null; createdAt: Date };

export function replicaView(r: ReplicaRow, faults: readonly (FaultView & { replicaId: string })[] = []): ReplicaView {
  return {
    id: r.id,
    serviceId: r.serviceId,
    state: r.state,
    health: r.health,
    healthReason: r.healthReason,
    dataAddr: r.dataAddr,
    adminAddr: r.adminAddr,
    runtime: r.runtime,
    runtimeRef: r.runtimeRef,
    adminState: r.adminState,
    weight: r.weight,
    inEngine: r.inEngine,
    startedAt: r.startedAt?.toISOString() ?? null,
    lastError: r.lastError,
    faults: faults.filter((f) => f.replicaId === r.id).map(({ id, kind, params, startedAt, expiresAt }) => ({ id, kind, params, startedAt, expiresAt })),
  };
}

export function serviceView(s: {
  id: string;
  name: string;
  runtime: string;
  image: string | null;
  command: string | null;
  dataPort: number;
  adminPort: number;
  env: string;
  memoryLimitMb: number;
  memoryThresholdPercent: number;
  cpuLimit: number | null;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  rules: string;
  allowRoot: boolean;
  actions: string;
  endpoints: string | null;
  discover: string | null;
  replicaProtocol: boolean;
  createdAt: Date;
  instances?: ReplicaRow[];
}, faults: readonly (FaultView & { replicaId: string })[] = []): ServiceView {
  const { command, env } = runFieldsOf(s);
  const source = instanceSourceOf(s);
  return {
    id: s.id,
    name: s.name,
    runtime: s.runtime,
    image: s.image,
    command,
    dataPort: s.dataPort,
    adminPort: s.adminPort,
    env,
    memoryLimitMb: s.memoryLimitMb,
    memoryThresholdPercent: memoryThresholdOf(s),
    cpuLimit: s.cpuLimit,
    replicas: s.replicas,
    minReplicas: s.minReplicas,
    maxReplicas: s.maxReplicas,
    rules: parseRules(s.rules),
    allowRoot: s.allowRoot,
    actions: actionsOf(s),
    endpoints: source?.kind === "external" ? source.endpoints : null,
    discover: source?.kind === "discover" ? source.discover : null,
    replicaProtocol: s.replicaProtocol,
    redacted: false,
    createdAt: s.createdAt.toISOString(),
    instances: (s.instances ?? []).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((r) => replicaView(r, faults)),
  };
}

// ---------------------------------------------------------------- what a viewer sees

/** Operators and admins see everything; viewers the viewer form. */
export const seesEverything = (role: Role) => hasRole(role, "operator");

/** What stands in for a withheld value or a path of this machine. */
export const HIDDEN = "(hidden)";

/** What to take out of text a viewer reads: secret words (env values, command words) and the panel's paths. */
export type Hidden = { words: string[]; paths: { path: string; as: string }[] };

/** Words shorter than this are not searched for in text (a value "1" or "on" would blank out half a message). */
const MIN_WORD = 4;

/** This panel's paths, longest first (the data folder usually lies inside the panel folder). */
function panelPaths(): Hidden["paths"] {
  const cfg = env();
  const named = [
    { path: cfg.dataDir, as: "$DATA_DIR" },
    { path: process.cwd(), as: "$PANEL_DIR" },
    ...[cfg.HAPROXY_CONFIG, cfg.HAPROXY_MASTER_SOCKET, cfg.HAPROXY_RUNTIME_SOCKET, cfg.NGINX_CONFIG].filter((p): p is string => Boolean(p)).map((p) => ({ path: p, as: HIDDEN })),
  ];
  return named.filter((p) => p.path.length > 1).sort((a, b) => b.path.length - a.path.length);
}

/** What a service's view must not show a viewer: its env values and command words. */
function secretWordsOf(s: { env: Record<string, string>; command: string[] | null }): string[] {
  return [...Object.values(s.env), ...(s.command ?? [])];
}

export function hiddenFor(services: { env: Record<string, string>; command: string[] | null }[]): Hidden {
  const words = [...new Set(services.flatMap(secretWordsOf))].filter((w) => w.length >= MIN_WORD).sort((a, b) => b.length - a.length);
  return { words, paths: panelPaths() };
}

/** Pure: `text` with every secret word and path replaced. */
export function hideIn(text: string, hidden: Hidden): string {
  let out = text;
  for (const p of hidden.paths) out = out.split(p.path).join(p.as);
  for (const w of hidden.words) out = out.split(w).join(HIDDEN);
  return out;
}

const hideMaybe = (text: string | null, hidden: Hidden) => (text === null ? null : hideIn(text, hidden));

function viewerReplica(r: ReplicaView, hidden: Hidden): ReplicaView {
  return { ...r, runtimeRef: null, healthReason: hideMaybe(r.healthReason, hidden), lastError: hideMaybe(r.lastError, hidden) };
}

/** A service as a viewer sees it: variable names only, no command, no process ids or container ids. */
export function serviceViewFor(role: Role, v: ServiceView): ServiceView {
  if (seesEverything(role)) return v;
  const hidden = hiddenFor([v]);
  return {
    ...v,
    env: Object.fromEntries(Object.keys(v.env).map((k) => [k, ""])),
    command: null,
    actions: v.actions.map(({ body: _body, ...a }) => a),
    redacted: true,
    instances: v.instances.map((r) => viewerReplica(r, hidden)),
  };
}

/** Texts about the balancer and events may quote any service: hide the words of all of them. */
async function hiddenOfAllServices(): Promise<Hidden> {
  const rows = await db().service.findMany({ select: { env: true, command: true } });
  return hiddenFor(rows.map(runFieldsOf));
}

/** Event data may name the replica's pid or container id (the controller's replica events): not for viewers. */
function withoutRuntimeRef(data: unknown): unknown {
  if (!data || typeof data !== "object" || !("runtimeRef" in data)) return data;
  const { runtimeRef: _ref, ...rest } = data as Record<string, unknown>;
  return rest;
}

/** Events as a viewer reads them (API, pages, the live channel): messages without secret words or paths, data without pids. */
export async function eventsFor(role: Role, events: SwitchyardEvent[]): Promise<SwitchyardEvent[]> {
  if (seesEverything(role) || events.length === 0) return events;
  const hidden = await hiddenOfAllServices();
  return events.map((e) => ({ ...e, message: hideIn(e.message, hidden), data: withoutRuntimeRef(e.data) }));
}

type EngineShown = { pid?: number | null; location?: string; error?: string | null; statsFeed?: StatsFeed };

/** Pure: the engine as a viewer sees it: no pid, no config location, no paths in its error or its stats feed (nginx's access log). */
export function viewerEngine<E extends EngineShown>(engine: E, hidden: Hidden): E {
  const feed = engine.statsFeed;
  return {
    ...engine,
    pid: null,
    location: HIDDEN,
    ...(engine.error ? { error: hideIn(engine.error, hidden) } : {}),
    ...(feed ? { statsFeed: { ...feed, file: hideIn(feed.file, hidden), detail: hideMaybe(feed.detail, hidden), ...(feed.error ? { error: hideIn(feed.error, hidden) } : {}) } } : {}),
  };
}

type ListenersShown = { listeners?: { certificates?: { certFile: string; keyFile: string; pemFile: string }[] }[] };

/** Pure: a config's listeners as a viewer sees them: certificate files as $DATA_DIR/…, no path of this machine. */
export function viewerListeners<C extends ListenersShown>(config: C, hidden: Hidden): C {
  if (!config.listeners) return config;
  const files = (c: { certFile: string; keyFile: string; pemFile: string }) => ({ ...c, certFile: hideIn(c.certFile, hidden), keyFile: hideIn(c.keyFile, hidden), pemFile: hideIn(c.pemFile, hidden) });
  return { ...config, listeners: config.listeners.map((l) => (l.certificates ? { ...l, certificates: l.certificates.map(files) } : l)) };
}

/** GET /api/balancer and the pages: a viewer sees no engine pid, no config location, and configs without paths. */
export async function balancerOverviewFor<T extends { engine: EngineShown; live: string | null; config?: ListenersShown }>(role: Role, o: T): Promise<T> {
  if (seesEverything(role)) return o;
  const hidden = await hiddenOfAllServices();
  return { ...o, engine: viewerEngine(o.engine, hidden), live: hideMaybe(o.live, hidden), ...(o.config ? { config: viewerListeners(o.config, hidden) } : {}) };
}

/**
 * Revisions, previews and exports as a viewer reads them: every string field (rendered
 * config, diff, engine error) without paths or secret words; nested objects (the config
 * model, check results) the same.
 */
export async function configTextsFor<T extends object>(role: Role, value: T): Promise<T> {
  if (seesEverything(role)) return value;
  const hidden = await hiddenOfAllServices();
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return hideIn(v, hidden);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
