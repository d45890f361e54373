import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { recordEvent } from "@/lib/events";
import { AppError } from "@/lib/core/errors";
import { newToken } from "@/lib/core/ids";
import { defaultRules } from "@/lib/core/rules";
import { ENDPOINT_LIMITS, isClusterRuntime, MEMORY_THRESHOLD, speaksReplicaProtocol, type ClusterRuntimeKind, type CreateServiceInput, type UpdateServiceInput } from "@/lib/core/service";
import { runChangeRefusals, type RunFields } from "@/lib/core/run-policy";
import type { SessionUser } from "@/lib/auth/sessions";
import { controller } from "@/lib/controller/controller";
import { engine } from "@/lib/engines/registry";
import { clusterFor, runtimeFor } from "@/lib/runtime/registry";
import { currentBalancerConfig } from "@/lib/db/balancer-config";
import { instanceSourceOf, parseRules, runFieldsOf, runtimeKindOf } from "@/lib/db/rows";
import { conflictingRoute, onOwnHost, routeConflict } from "@/lib/core/routes";
import { assertSupported } from "@/lib/engines/capabilities";
import { assertSwarmSupported } from "@/lib/engines/swarm/capabilities";
import { applyBalancerConfig } from "@/lib/services/apply-balancer-config";
import { getAllowList } from "@/lib/services/manage-allow-list";
import { serviceView, type ServiceView } from "@/lib/services/views";
import { pauseAutoscaler } from "@/lib/autoscale/store";
import { faultStore } from "@/lib/faults/store";
import { activeRollout } from "@/lib/rollout/store";
import { rolloutRequestSchema } from "@/lib/core/rollout";
import { startClusterRollout } from "@/lib/rollout/cluster-rollout";

type Actor = Pick<SessionUser, "username" | "role">;

/** Refuses (403, one detail per field) what the actor's role may not run; see lib/core/run-policy.ts. */
/** The run policy (who may run which image or command, as root or not): a refusal is a 403 naming what. Rollouts check it too. */
export async function assertMayRun(actor: Actor, change: Partial<RunFields>, before: RunFields | null): Promise<void> {
  const refusals = runChangeRefusals(actor.role, { allow: await getAllowList(), defaultImage: env().REPLICA_IMAGE }, change, before);
  if (refusals.length) throw new AppError("forbidden", refusals.map((r) => r.message).join("; "), refusals);
}

export async function listServices(): Promise<ServiceView[]> {
  const rows = await db().service.findMany({ include: { instances: true }, orderBy: { name: "asc" } });
  const faults = await faultStore().active();
  return rows.map((row) => serviceView(row, faults));
}

export async function getService(id: string): Promise<ServiceView> {
  const row = await db().service.findUnique({ where: { id }, include: { instances: true } });
  if (!row) throw new AppError("not_found", "no such service");
  return serviceView(row, await faultStore().active(row.instances.map((r) => r.id)));
}

/**
 * Instances the panel did not start (issue 14, item 3): an external service's count is
 * its endpoints, a discovering one's is what runs; neither has a count to set.
 */
/**
 * The engines render IPv4 addresses and host names (lib/engines/*: render's host checks);
 * an IPv6 endpoint parses but is refused here until they render [v6]:port, rather than
 * reach an engine that would refuse its whole config.
 */
function assertRenderable(endpoints: string[] | undefined): void {
  const v6 = endpoints?.filter((e) => e.startsWith("["));
  if (v6?.length) throw new AppError("bad_request", `endpoints: IPv6 addresses (${v6.join(", ")}) are not supported by the engines yet; use an IPv4 address or a host name`);
}

/**
 * Pointing a service at addresses or containers the panel did not start is an admin's
 * choice, like what an operator may run (lib/core/run-policy.ts): the panel then probes
 * those addresses, sends the app's actions (paths and bodies) to them, and restarts or
 * stops those containers.
 */
function assertMayPointAt(actor: Actor, change: { endpoints?: unknown; discover?: unknown }): void {
  if (actor.role === "admin") return;
  const field = change.endpoints !== undefined ? "endpoints" : change.discover !== undefined ? "discover" : null;
  if (field) throw new AppError("forbidden", `${field}: only an admin may point a service at instances the panel did not start`, [{ path: field, message: "only an admin may set this" }]);
}

/**
 * A Swarm or Kubernetes service (experimental) runs on machines other than the panel's: an
 * admin's choice, and only when SWARM_MANAGER names a reachable manager / KUBERNETES_API an API
 * server that answers this token.
 */
async function assertClusterUsable(kind: ClusterRuntimeKind, actor: Actor): Promise<void> {
  const cluster = kind === "swarm" ? "a Swarm cluster" : "a Kubernetes cluster";
  if (actor.role !== "admin") throw new AppError("forbidden", `runtime: only an admin may put a service on ${cluster}`, [{ path: "runtime", message: `only an admin may choose ${kind}` }]);
  if (kind === "swarm" && !env().SWARM_MANAGER) throw new AppError("unavailable", 'runtime "swarm": the panel has no Swarm manager (set SWARM_MANAGER to a manager\'s Engine API, unix:///path/docker.sock or tcp://host:port)');
  if (kind === "kubernetes" && !env().KUBERNETES_API) {
    throw new AppError("unavailable", 'runtime "kubernetes": the panel has no Kubernetes API (set KUBERNETES_API to https://host:port, and KUBERNETES_TOKEN or KUBERNETES_TOKEN_FILE; README, Kubernetes (experimental))');
  }
  const available = await clusterFor(kind).available();
  if (!available.ok) throw new AppError("unavailable", `runtime "${kind}": ${available.reason}`);
}

const NOT_SCALED = "its instances are not started by the panel: the count is what its endpoints or discovered containers are";

export async function createService(input: CreateServiceInput, actor: Actor): Promise<ServiceView> {
  const cfg = env();
  const runtime = input.runtime ?? cfg.RUNTIME;
  // the schema checks these against an explicit runtime; the panel's default runtime is checked here
  if (input.endpoints && runtime !== "external") throw new AppError("bad_request", 'endpoints: for runtime "external"');
  if (input.discover && runtime !== "docker") throw new AppError("bad_request", 'discover: needs runtime "docker"');
  if (runtime === "external" && !input.endpoints) throw new AppError("bad_request", "endpoints: an external service needs its endpoints");
  assertRenderable(input.endpoints);
  assertMayPointAt(actor, input);
  const listed = runtime === "external" || Boolean(input.discover);
  await assertMayRun(actor, { image: input.image ?? null, command: input.command ?? null, env: input.env, allowRoot: input.allowRoot ?? false }, null);
  const maxReplicas = listed ? ENDPOINT_LIMITS.endpoints : Math.min(input.maxReplicas ?? cfg.MAX_REPLICAS, cfg.MAX_REPLICAS);
  if (!listed && input.replicas > maxReplicas) throw new AppError("bad_request", `replicas: at most ${maxReplicas}`);
  if (!listed && input.minReplicas > input.replicas) throw new AppError("bad_request", "replicas: at least minReplicas");
  if (await db().service.findUnique({ where: { name: input.name } })) throw new AppError("conflict", `a service named ${input.name} exists already`);
  if (runtime === "docker") {
    const available = await runtimeFor("docker").available();
    if (!available.ok) throw new AppError("unavailable", `the Docker runtime is not available: ${available.reason}`);
  }
  if (isClusterRuntime(runtime)) await assertClusterUsable(runtime, actor);
  const others = (await db().service.findMany({ select: { name: true, rules: true } })).map((o) => ({ name: o.name, rules: parseRules(o.rules) }));
  let rules = input.rules ?? defaultRules();
  // rules given only for other settings (a health path, issue 14) keep the default route, and its fallback
  if ((!input.rules || JSON.stringify(input.rules.routes) === JSON.stringify(defaultRules().routes)) && routeConflict(rules, others)) {
    // the default route (any host, /) is taken: route this service by its own host name
    rules = onOwnHost(rules, input.name);
  }
  const clash = conflictingRoute(rules, others);
  if (clash) throw new AppError("conflict", `the route ${clash.route} belongs to service ${clash.service}; give this service another host or path`);
  assertSupported(engine(), rules);
  if (runtime === "swarm") assertSwarmSupported(rules);
  const row = await db().service.create({
    data: {
      name: input.name,
      runtime,
      image: (runtime === "docker" || isClusterRuntime(runtime)) && !input.discover ? (input.image ?? cfg.REPLICA_IMAGE) : null,
      command: input.command ? JSON.stringify(input.command) : null,
      dataPort: input.dataPort,
      adminPort: input.adminPort,
      env: JSON.stringify(input.env),
      memoryLimitMb: input.memoryLimitMb,
      memoryThresholdPercent: input.memoryThresholdPercent ?? MEMORY_THRESHOLD.default,
      cpuLimit: input.cpuLimit,
      replicas: input.endpoints ? input.endpoints.length : input.discover ? 0 : input.replicas,
      minReplicas: listed ? 0 : input.minReplicas,
      maxReplicas,
      endpoints: input.endpoints ? JSON.stringify(input.endpoints) : null,
      discover: input.discover ? JSON.stringify(input.discover) : null,
      adminToken: newToken(),
      rules: JSON.stringify(rules),
      allowRoot: input.allowRoot ?? false,
      actions: JSON.stringify(input.actions ?? []),
      // instances the panel did not start are someone's own app: no replica protocol unless said so
      replicaProtocol: input.replicaProtocol ?? (!listed && speaksReplicaProtocol({ image: input.image ?? null, command: input.command ?? null }, cfg.REPLICA_IMAGE)),
    },
  });
  const made = input.endpoints ? `external, ${input.endpoints.length} endpoints` : input.discover ? `docker, discovering ${JSON.stringify(input.discover)}` : `${runtime}, ${row.replicas} replicas`;
  await recordEvent({ kind: "service.created", actor: actor.username, serviceId: row.id, message: `${actor.username} created service ${row.name} (${made})` });
  try {
    // the engine gets the (still empty) backend and route before any replica joins it
    await applyBalancerConfig({ build: () => currentBalancerConfig(), author: actor.username, summary: `service ${row.name} added`, serviceId: row.id });
  } catch (e) {
    await db().service.delete({ where: { id: row.id } });
    throw e;
  }
  controller().kick(row.id);
  return getService(row.id);
}

/** How an edit of a swarm service's image, command or environment rolls out: Swarm's rolling update, one task at a time, no pause between them. */
const SWARM_EDIT_ROLLOUT = rolloutRequestSchema.parse({ strategy: "rolling", batchSize: 1, holdS: 0 });

export async function updateService(id: string, input: UpdateServiceInput, actor: Actor): Promise<ServiceView> {
  const svc = await db().service.findUnique({ where: { id } });
  if (!svc) throw new AppError("not_found", "no such service");
  const before: RunFields = {
    image: svc.image,
    ...runFieldsOf(svc),
    allowRoot: svc.allowRoot,
  };
  await assertMayRun(actor, { image: input.image, command: input.command, env: input.env, allowRoot: input.allowRoot }, before);
  // a rollout in progress owns what the replicas run: its promotion writes these fields
  const runChanged = (input.image !== undefined && input.image !== before.image) || (input.command !== undefined && JSON.stringify(input.command) !== JSON.stringify(before.command)) || (input.env !== undefined && JSON.stringify(input.env) !== JSON.stringify(before.env));
  if (runChanged && (await activeRollout(id))) throw new AppError("conflict", `${svc.name} has a rollout in progress: promote or abort it before changing its image, command or environment`);
  // on Swarm the change is Swarm's rolling update, followed as a rollout (the fields change when Swarm completes it)
  const swarmUpdate = runChanged && svc.runtime === "swarm";
  if (swarmUpdate && input.replicas !== undefined && input.replicas !== svc.replicas) {
    throw new AppError("conflict", `${svc.name} runs on Swarm: change its replicas or what it runs, one at a time (a rolling update keeps ${svc.replicas} tasks)`);
  }
  if (swarmUpdate) {
    const { startRollout } = await import("@/lib/services/manage-rollouts");
    await startRollout(id, { ...SWARM_EDIT_ROLLOUT, ...(input.image !== undefined ? { image: input.image } : {}), ...(input.command !== undefined ? { command: input.command } : {}), ...(input.env !== undefined ? { env: input.env } : {}) }, actor);
  }
  // and its replica counts (old and new version): a count written now would be ignored until it ends
  if (input.replicas !== undefined && input.replicas !== svc.replicas && (await activeRollout(id))) {
    throw new AppError("conflict", `${svc.name}: a rollout is in progress: promote or abort it first, then scale (it keeps ${svc.replicas} replicas until it ends)`);
  }
  const source = instanceSourceOf(svc);
  assertRenderable(input.endpoints);
  assertMayPointAt(actor, input);
  if (input.endpoints && source?.kind !== "external") throw new AppError("bad_request", 'endpoints: only a service of runtime "external" has them');
  if (input.discover && source?.kind !== "discover") throw new AppError("bad_request", "discover: only a service created discovering its containers can change what it discovers");
  if (source) {
    if (input.replicas !== undefined || input.minReplicas !== undefined || input.maxReplicas !== undefined) throw new AppError("conflict", `${svc.name} cannot be scaled: ${NOT_SCALED}`);
    if (input.image || input.command) throw new AppError("bad_request", `${svc.name} starts nothing: no image or command`);
  }
  const cfg = env();
  const maxReplicas = Math.min(input.maxReplicas ?? svc.maxReplicas, cfg.MAX_REPLICAS);
  const minReplicas = input.minReplicas ?? svc.minReplicas;
  const replicas = input.endpoints ? input.endpoints.length : (input.replicas ?? svc.replicas);
  if (!source && replicas > maxReplicas) throw new AppError("bad_request", `replicas: at most ${maxReplicas} for ${svc.name}`);
  if (!source && replicas < minReplicas) throw new AppError("bad_request", `replicas: at least ${minReplicas} for ${svc.name}`);
  // a person's slider pauses the service's autoscaler before the count is written: the two never fight (issue 16)
  if (!source && replicas !== svc.replicas && (await pauseAutoscaler(id, actor.username))) {
    await recordEvent({ kind: "autoscale.paused", actor: actor.username, serviceId: id, message: `${actor.username} moved the slider of ${svc.name}: its autoscaler is paused until resumed` });
  }
  await db().service.update({
    where: { id },
    data: {
      replicas,
      minReplicas,
      maxReplicas,
      ...(input.image !== undefined && !swarmUpdate ? { image: input.image } : {}),
      ...(input.command !== undefined && !swarmUpdate ? { command: input.command ? JSON.stringify(input.command) : null } : {}),
      ...(input.env !== undefined && !swarmUpdate ? { env: JSON.stringify(input.env) } : {}),
      ...(input.memoryLimitMb !== undefined ? { memoryLimitMb: input.memoryLimitMb } : {}),
      ...(input.memoryThresholdPercent !== undefined ? { memoryThresholdPercent: input.memoryThresholdPercent } : {}),
      ...(input.cpuLimit !== undefined ? { cpuLimit: input.cpuLimit } : {}),
      ...(input.allowRoot !== undefined ? { allowRoot: input.allowRoot } : {}),
      ...(input.actions !== undefined ? { actions: JSON.stringify(input.actions) } : {}),
      ...(input.endpoints !== undefined ? { endpoints: JSON.stringify(input.endpoints) } : {}),
      ...(input.discover !== undefined ? { discover: JSON.stringify(input.discover) } : {}),
      ...(input.replicaProtocol !== undefined ? { replicaProtocol: input.replicaProtocol } : {}),
    },
  });
  if (input.endpoints && source?.kind === "external") {
    const was = new Set(source.endpoints);
    const now = new Set(input.endpoints);
    const added = input.endpoints.filter((e) => !was.has(e));
    const removed = source.endpoints.filter((e) => !now.has(e));
    const said = [added.length ? `added ${added.join(", ")}` : "", removed.length ? `removed ${removed.join(", ")} (drained out, left running)` : ""].filter(Boolean).join("; ");
    await recordEvent({ kind: "service.updated", actor: actor.username, serviceId: id, message: `${actor.username} changed the endpoints of ${svc.name}: ${said || "same list"}`, data: { added, removed } });
  } else if (replicas !== svc.replicas) {
    await recordEvent({ kind: "service.scaled", actor: actor.username, serviceId: id, message: `${actor.username} scaled ${svc.name} from ${svc.replicas} to ${replicas} replicas`, data: { from: svc.replicas, to: replicas } });
  }
  // a Deployment's template changed: the Deployment rolls it, its rollout row follows (lib/rollout/cluster-rollout.ts)
  if (runChanged && svc.runtime === "kubernetes") {
    const to = { image: input.image !== undefined ? input.image : before.image, command: input.command !== undefined ? input.command : before.command, env: input.env ?? before.env };
    await startClusterRollout({ ...svc, replicas }, { image: before.image, command: before.command, env: before.env }, to, actor.username);
  }
  // on Swarm the rollout's own events say what runs
  const otherChanges = Object.keys(input).filter((k) => k !== "replicas" && k !== "endpoints" && !(swarmUpdate && (k === "image" || k === "command" || k === "env")));
  if (otherChanges.length) {
    await recordEvent({ kind: "service.updated", actor: actor.username, serviceId: id, message: `${actor.username} changed ${otherChanges.join(", ")} of ${svc.name}; new replicas use it` });
  }
  controller().kick(id);
  return getService(id);
}

/** Delete: out of the balancer first, then every replica is stopped. */
export async function deleteService(id: string, actor: Actor): Promise<{ ok: true }> {
  const svc = await db().service.findUnique({ where: { id } });
  if (!svc) throw new AppError("not_found", "no such service");
  await applyBalancerConfig({
    build: () => currentBalancerConfig([], [id]),
    author: actor.username,
    summary: `service ${svc.name} removed`,
    serviceId: id,
    commit: async () => {
      await db().service.delete({ where: { id } });
    },
  });
  if (instanceSourceOf(svc)) {
    // the panel started none of them: they keep running (a discovered container is never stopped or removed)
    await recordEvent({ kind: "service.deleted", actor: actor.username, message: `${actor.username} deleted service ${svc.name}; its instances keep running (the panel did not start them)` });
    return { ok: true };
  }
  await recordEvent({ kind: "service.deleted", actor: actor.username, message: `${actor.username} deleted service ${svc.name}; its replicas are stopping` });
  // out of the balancer already: the controller stops every replica labelled with this service, in the background
  void controller().stopServiceReplicas({ id, name: svc.name, runtime: runtimeKindOf(svc) });
  return { ok: true };
}

/** The demo service "web", created once on a fresh panel so a new user sees something real. */
export async function ensureDemoService(): Promise<void> {
  const done = await db().setting.findUnique({ where: { key: "demo-created" } });
  if (done) return;
  await db().setting.create({ data: { key: "demo-created", value: new Date().toISOString() } });
  if ((await db().service.count()) > 0) return;
  await createService(
    { name: "web", dataPort: 8000, adminPort: 9000, env: {}, memoryLimitMb: 256, cpuLimit: null, replicas: 3, minReplicas: 0 },
    { username: "system", role: "admin" },
  );
}
