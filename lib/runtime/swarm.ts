/**
 * The Swarm runtime (experimental): a service's replicas are the tasks of one replicated
 * Swarm service, created and scaled through a manager's Engine API (dockerode, API 1.41).
 *
 * - The Swarm service is named `sy-<service>`, labelled switchyard.managed=true, .service,
 *   .service-name (and .panel when the panel has an id); only such services are listed or touched.
 * - It runs on an attachable overlay network (default `switchyard-swarm`, created when missing)
 *   with endpoint mode dnsrr: this kernel has no IPVS, so the VIP mode does not work
 *   (EHOSTUNREACH); `tasks.<name>` and each task's own overlay address do.
 * - Each running task is a replica: its slot, node, container and overlay address.
 * - Scaling writes the whole spec back with the version it read (`?version=N`); a stale
 *   version (the API answers 500 "update out of sequence") is re-read and retried.
 *
 * Overlay addresses are reachable only from containers on that overlay (not from the host):
 * a balancer must run attached to it. The per-replica lifecycle of the Runtime port
 * (create/stop/remove one replica) does not map onto Swarm, which picks the tasks to remove
 * when a service scales down: those methods refuse, and scaling is scale().
 */
import Docker from "dockerode";
import { AppError } from "@/lib/core/errors";
import { sleep } from "@/lib/process/sleep";
import { connectionOptions, type DockerEndpoint } from "./docker-connection";
import { dockerErrors, dockerMessage, statusOf } from "./docker-errors";
import { LABEL_PANEL } from "./docker";
import { replicaEnv, RUNTIME_ENV_KEYS } from "./replica-env";
import { SWARM_VERSION_LABEL, type SwarmRolloutProgress } from "@/lib/core/swarm-rollout";
import { demuxDockerLog, formatLogLines } from "./docker-log";
import { refusedReplicaLifecycle } from "./refused-lifecycle";
import { ensureSwarmBalancer, LABEL_BALANCER_OF, removeSwarmBalancer, type SwarmBalancerRules } from "./swarm-balancer";
import type { ClusterMember, ClusterRuntime } from "./cluster";
import {
  LABEL_MANAGED,
  LABEL_SERVICE,
  LABEL_SERVICE_NAME,
  type ReplicaSpec,
  type Runtime,
  type RuntimeReplica,
  type RuntimeReplicaState,
} from "./types";

export type SwarmRuntimeOptions = DockerEndpoint & {
  /** the overlay the services' tasks join (attachable, so a balancer container can too) */
  network?: string;
  defaultImage?: string;
  panelId?: string;
  /** how many times a scale re-reads a stale version before it gives up; default 8 */
  maxUpdateAttempts?: number;
};

/** What the panel asks Swarm to run for one of its services. */
export type SwarmServiceSpec = Omit<ReplicaSpec, "replicaId"> & { replicas: number };

export type SwarmTask = {
  taskId: string;
  slot: number;
  nodeId: string;
  /** the node's hostname (as `docker node ls` shows it) */
  node: string;
  containerId: string | null;
  /** the task's address on the service's overlay (no prefix length) */
  address: string | null;
  state: string;
  desiredState: string;
  error: string | null;
  startedAt: Date;
};

export type SwarmNode = { id: string; hostname: string; role: string; state: string; availability: string; addr: string; leader: boolean };

const SWARM_PREFIX = "sy-";
const UPDATE_OUT_OF_SEQUENCE = /update out of sequence/i;
/** How long a task's replica app keeps serving after SIGTERM (SHUTDOWN_DELAY_MS, replica/server.js). */
const SWARM_SHUTDOWN_DELAY_MS = 3000;

/** `sy-<name>`: the Swarm service of a panel service (names are [a-z0-9-], so this is a valid service name). */
export function swarmServiceName(serviceName: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,50}$/.test(serviceName)) throw new AppError("bad_request", `service name ${JSON.stringify(serviceName)} cannot name a Swarm service`);
  return `${SWARM_PREFIX}${serviceName}`;
}

function mapTaskState(state: string): RuntimeReplicaState {
  if (state === "running") return "running";
  if (["complete", "failed", "shutdown", "rejected", "orphaned", "remove"].includes(state)) return "exited";
  if (["new", "pending", "assigned", "accepted", "preparing", "ready", "starting"].includes(state)) return "created";
  return "unknown";
}

/** Slots in which Swarm wants more than one task running (a start-first update or rollback left both). */
export function duplicateSlots(wanted: { slot: number }[]): number[] {
  const seen = new Map<number, number>();
  for (const t of wanted) seen.set(t.slot, (seen.get(t.slot) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([slot]) => slot).sort((a, b) => a - b);
}

type TaskInfo = {
  ID: string;
  Slot?: number;
  NodeID?: string;
  ServiceID: string;
  DesiredState: string;
  Status: { State: string; Err?: string; Timestamp?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
  NetworksAttachments?: { Network: { Spec?: { Name?: string } }; Addresses?: string[] }[];
  CreatedAt?: string;
};

export function createSwarmRuntime(opts: SwarmRuntimeOptions) {
  const { options, where } = connectionOptions(opts);
  const docker = new Docker(options);
  // every Engine API request this runtime makes, counted (its cost per reconcile is a figure the tests print)
  let apiCalls = 0;
  const modem = docker.modem as unknown as { dial: (...args: unknown[]) => unknown };
  const dial = modem.dial.bind(modem);
  modem.dial = (...args: unknown[]) => {
    apiCalls++;
    return dial(...args);
  };
  const { wrap, call } = dockerErrors(where);
  const network = opts.network ?? "switchyard-swarm";
  const maxAttempts = opts.maxUpdateAttempts ?? 8;
  const labelFilters = [`${LABEL_MANAGED}=true`, ...(opts.panelId ? [`${LABEL_PANEL}=${opts.panelId}`] : [])];

  async function ensureNetwork(): Promise<void> {
    try {
      const info = (await docker.getNetwork(network).inspect()) as { Driver?: string; Attachable?: boolean };
      if (info.Driver !== "overlay") throw new AppError("conflict", `network ${network} exists and is not an overlay (driver ${info.Driver})`);
      return;
    } catch (e) {
      if (e instanceof AppError) throw e;
      if (statusOf(e) !== 404) throw wrap(e, `inspect network ${network}`);
    }
    try {
      await docker.createNetwork({ Name: network, Driver: "overlay", Attachable: true, CheckDuplicate: true, Labels: { [LABEL_MANAGED]: "true" } });
    } catch (e) {
      if (statusOf(e) !== 409) throw wrap(e, `create overlay network ${network}`);
    }
  }

  /**
   * One read of everything the controller follows, shared by every service for SNAPSHOT_MS:
   * the panel's Swarm services and balancers (one listServices by label), all their tasks (one
   * listTasks), the nodes (one listNodes). Was about a dozen calls per service per reconcile.
   * Writes (create, scale, update, remove) drop it; reads before a write (findService) stay fresh.
   */
  let snap: { at: number; value: Promise<Snapshot> } | null = null;
  function snapshot(maxAgeMs = SNAPSHOT_MS): Promise<Snapshot> {
    if (snap && Date.now() - snap.at < maxAgeMs) return snap.value;
    const value = (async (): Promise<Snapshot> => {
      const services = (await call("list services", () => docker.listServices({ filters: { label: [`${LABEL_MANAGED}=true`] } }))) as unknown as ServiceInfo[];
      const ids = services.map((x) => x.ID);
      const [taskList, nodeList] = await Promise.all([
        ids.length > 0 ? (call("list tasks", () => docker.listTasks({ filters: { service: ids } })) as Promise<TaskInfo[]>) : Promise.resolve([] as TaskInfo[]),
        call("list nodes", () => docker.listNodes()) as Promise<NodeInfo[]>,
      ]);
      return { services, tasks: taskList, nodes: nodeList };
    })();
    const entry = { at: Date.now(), value };
    snap = entry;
    value.catch(() => {
      if (snap === entry) snap = null;
    });
    return value;
  }
  const invalidate = () => {
    snap = null;
  };

  const isMine = (info: ServiceInfo, serviceId: string) => {
    const labels = info.Spec.Labels ?? {};
    return labels[LABEL_SERVICE] === serviceId && labels[LABEL_MANAGED] === "true" && (!opts.panelId || labels[LABEL_PANEL] === opts.panelId);
  };

  /** The managed Swarm service of a panel service id as the shared snapshot saw it (reads only; a write reads fresh, findService). */
  async function cachedService(serviceId: string): Promise<Docker.Service & { info: ServiceInfo } | null> {
    const info = (await snapshot()).services.find((x) => isMine(x, serviceId));
    return info ? Object.assign(docker.getService(info.ID), { info }) : null;
  }

  /** The managed Swarm service of a panel service id (or null), read now. */
  async function findService(serviceId: string): Promise<Docker.Service & { info: ServiceInfo } | null> {
    const list = (await call("list services", () => docker.listServices({ filters: { label: [...labelFilters, `${LABEL_SERVICE}=${serviceId}`] } }))) as unknown as ServiceInfo[];
    const info = list[0];
    return info ? Object.assign(docker.getService(info.ID), { info }) : null;
  }

  async function mustFind(serviceId: string) {
    const svc = await findService(serviceId);
    if (!svc) throw new AppError("not_found", `no Swarm service for service ${serviceId}`);
    return svc;
  }

  const nodeNames = new Map<string, string>();
  async function nodeName(id: string): Promise<string> {
    if (!nodeNames.has(id)) for (const n of await nodes()) nodeNames.set(n.id, n.hostname);
    return nodeNames.get(id) ?? id;
  }

  async function nodes(): Promise<SwarmNode[]> {
    const list = (await snapshot()).nodes;
    return list.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? n.ID,
      role: n.Spec?.Role ?? "",
      state: n.Status?.State ?? "unknown",
      availability: n.Spec?.Availability ?? "",
      addr: n.Status?.Addr ?? "",
      leader: Boolean(n.ManagerStatus?.Leader),
    }));
  }

  async function toTask(t: TaskInfo): Promise<SwarmTask> {
    const attachment = t.NetworksAttachments?.find((a) => a.Network.Spec?.Name === network);
    const address = attachment?.Addresses?.[0]?.split("/")[0] ?? null;
    return {
      taskId: t.ID,
      slot: t.Slot ?? 0,
      nodeId: t.NodeID ?? "",
      node: t.NodeID ? await nodeName(t.NodeID) : "",
      containerId: t.Status.ContainerStatus?.ContainerID || null,
      address,
      state: t.Status.State,
      desiredState: t.DesiredState,
      error: t.Status.Err || null,
      startedAt: new Date(Date.parse(t.Status.Timestamp ?? t.CreatedAt ?? "") || Date.now()),
    };
  }

  /** The service's tasks that Swarm wants running (default), or all of them. */
  async function tasks(serviceId: string, { all = false }: { all?: boolean } = {}): Promise<SwarmTask[]> {
    const svc = await cachedService(serviceId);
    if (!svc) return [];
    const list = (await snapshot()).tasks.filter((t) => t.ServiceID === svc.info.ID && (all || t.DesiredState === "running"));
    const out = await Promise.all(list.map(toTask));
    return out.sort((a, b) => a.slot - b.slot);
  }

  /**
   * Read the spec, change it, write it back with the version read; when Swarm says the
   * version is stale, read again and redo (at most maxUpdateAttempts). Returns the attempts.
   */
  async function updateService(serviceId: string, mutate: (spec: ServiceSpec, attempt: number) => ServiceSpec | Promise<ServiceSpec>): Promise<{ attempts: number }> {
    return versionedUpdate(async (attempt) => {
      const svc = await mustFind(serviceId);
      const spec = await mutate(structuredClone(svc.info.Spec), attempt);
      return { what: `Swarm service ${svc.info.Spec.Name} (version ${svc.info.Version.Index})`, write: () => svc.update({ _query: { version: svc.info.Version.Index }, _body: spec }) };
    });
  }

  /** One read-change-write with the version read, retried while Swarm says the version is stale. */
  async function versionedUpdate(prepare: (attempt: number) => Promise<{ what: string; write: () => Promise<unknown> }>): Promise<{ attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      const { what, write } = await prepare(attempt);
      try {
        await write();
        invalidate();
        return { attempts: attempt };
      } catch (e) {
        const stale = statusOf(e) === 500 && UPDATE_OUT_OF_SEQUENCE.test(dockerMessage(e));
        if (!stale || attempt >= maxAttempts) throw wrap(e, `update ${what}`);
      }
    }
  }

  /**
   * A rolling update of what the tasks run (Swarm's UpdateConfig: one at a time, start-first,
   * rollback on failure, unless `configs` says otherwise). `env`: the service's own variables
   * (the runtime's own, PORT, ADMIN_TOKEN..., are kept); `version`: the label each task carries
   * (swarm-rollout.ts). Follow it with updateStatus() or rolloutProgress(): Swarm may roll it back.
   */
  async function updateTasks(
    serviceId: string,
    change: { image?: string; command?: string[] | null; env?: Record<string, string>; version?: string; configs?: { UpdateConfig: Record<string, unknown>; RollbackConfig: Record<string, unknown> } },
  ): Promise<{ attempts: number }> {
    if (change.command && !change.command.every((a) => typeof a === "string")) throw new AppError("bad_request", "command: strings only");
    const owned = new Set<string>(RUNTIME_ENV_KEYS);
    return updateService(serviceId, (spec) => {
      const template = (spec.TaskTemplate ?? {}) as { ContainerSpec?: Record<string, unknown>; ForceUpdate?: number };
      const container: Record<string, unknown> = { ...(template.ContainerSpec ?? {}) };
      if (change.image) container.Image = change.image;
      if (change.command) container.Args = change.command;
      else if (change.command === null) delete container.Args;
      if (change.env) {
        const kept = ((container.Env as string[] | undefined) ?? []).filter((kv) => owned.has(kv.slice(0, Math.max(0, kv.indexOf("=")))));
        container.Env = [...Object.entries(change.env).filter(([k]) => !owned.has(k)).map(([k, v]) => `${k}=${v}`), ...kept];
      }
      if (change.version) container.Labels = { ...((container.Labels as Record<string, string> | undefined) ?? {}), [SWARM_VERSION_LABEL]: change.version };
      return { ...spec, ...(change.configs ?? {}), TaskTemplate: { ...template, ContainerSpec: container } };
    });
  }

  /**
   * Where the last update stands, in Swarm's own words and in the panel's: "rolled-back" is
   * never reported as done (tools in this field have shown success after Swarm rolled back).
   */
  async function updateStatus(serviceId: string): Promise<{ state: string; outcome: "none" | "updating" | "done" | "paused" | "rolling-back" | "rolled-back"; message: string | null }> {
    return updateOutcomeOf((await mustFind(serviceId)).info);
  }

  /** Swarm's own rollback of the last update (the service's PreviousSpec, `docker service rollback`), version-checked like scale. */
  async function rollback(serviceId: string): Promise<{ attempts: number }> {
    return versionedUpdate(async () => {
      const svc = await mustFind(serviceId);
      if (!(svc.info as unknown as { PreviousSpec?: unknown }).PreviousSpec) throw new AppError("conflict", `Swarm service ${svc.info.Spec.Name} has no previous spec to roll back to`);
      return {
        what: `Swarm service ${svc.info.Spec.Name} (version ${svc.info.Version.Index}, rollback)`,
        write: () => svc.update({ _query: { version: svc.info.Version.Index, rollback: "previous" }, _body: svc.info.Spec }),
      };
    });
  }

  /** Where an update to `version` stands: Swarm's UpdateStatus and the running tasks by the version they run (swarm-rollout.ts). */
  async function rolloutProgress(serviceId: string, version: string): Promise<SwarmRolloutProgress> {
    const svc = await mustFind(serviceId);
    const st = (svc.info as unknown as { UpdateStatus?: { State?: string; Message?: string } }).UpdateStatus;
    const list = (await call("list tasks", () => docker.listTasks({ filters: { service: [svc.info.ID] } }))) as TaskInfo[];
    const versionOf = (t: TaskInfo) => t.Spec?.ContainerSpec?.Labels?.[SWARM_VERSION_LABEL] ?? null;
    const running = list.filter((t) => t.DesiredState === "running" && t.Status.State === "running");
    const newTasks = running.filter((t) => versionOf(t) === version).length;
    const failed = list.filter((t) => versionOf(t) === version && (t.Status.State === "failed" || t.Status.State === "rejected"));
    const template = svc.info.Spec.TaskTemplate as { ContainerSpec?: { Labels?: Record<string, string> } } | undefined;
    return {
      updateState: st?.State || null,
      message: st?.Message || null,
      desired: svc.info.Spec.Mode?.Replicated?.Replicas ?? 0,
      newTasks,
      oldTasks: running.length - newTasks,
      failedTasks: failed.length,
      failedError: failed.map((t) => ({ at: Date.parse(t.Status.Timestamp ?? "") || 0, err: t.Status.Err ?? null })).sort((a, b) => b.at - a.at)[0]?.err ?? null,
      specVersion: template?.ContainerSpec?.Labels?.[SWARM_VERSION_LABEL] ?? null,
    };
  }

  /** Drain a node (Swarm moves its tasks elsewhere) or make it active again; version-checked like scale. */
  async function setNodeAvailability(nodeId: string, availability: "active" | "drain" | "pause"): Promise<{ attempts: number }> {
    return versionedUpdate(async () => {
      const node = docker.getNode(nodeId);
      const info = (await call(`inspect node ${nodeId}`, () => node.inspect())) as NodeInfo & { Version: { Index: number }; Spec: Record<string, unknown> };
      return {
        what: `node ${info.Description?.Hostname ?? nodeId} (version ${info.Version.Index})`,
        write: () => node.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Availability: availability } }),
      };
    });
  }

  async function ensureService(spec: SwarmServiceSpec): Promise<{ id: string; name: string; created: boolean }> {
    // the shared snapshot first (every reconcile asks); read again before creating
    const existing = (await cachedService(spec.serviceId)) ?? (await findService(spec.serviceId));
    const name = swarmServiceName(spec.serviceName);
    if (existing) return { id: existing.info.ID, name, created: false };
    const image = spec.image ?? opts.defaultImage;
    if (!image) throw new AppError("bad_request", `service ${spec.serviceName} has no image for the Swarm runtime`);
    if (!Number.isInteger(spec.replicas) || spec.replicas < 0) throw new AppError("bad_request", "replicas must be a whole number >= 0");
    await ensureNetwork();
    const env = replicaEnv({ ...spec, replicaId: name }, { dataPort: spec.dataPort, adminPort: spec.adminPort, bindHost: "0.0.0.0" });
    // each task says which one it is (the replica app puts REPLICA_ID in /health and its headers)
    env.REPLICA_ID = `${name}.{{.Task.Slot}}`;
    // Swarm takes a task out of Docker's DNS 2 s before it sends SIGTERM, but the balancer re-resolves once a second
    // and holds an answer a second more: the replica app keeps serving (its /health 503) for a moment after SIGTERM so
    // a request the balancer still sends there is answered, not refused (a scale-down under load lost one otherwise).
    env.SHUTDOWN_DELAY_MS = String(SWARM_SHUTDOWN_DELAY_MS);
    const memoryBytes = spec.memoryLimitMb > 0 ? spec.memoryLimitMb * 1024 * 1024 : 0;
    const labels: Record<string, string> = {
      [LABEL_MANAGED]: "true",
      [LABEL_SERVICE]: spec.serviceId,
      [LABEL_SERVICE_NAME]: spec.serviceName,
      ...(opts.panelId ? { [LABEL_PANEL]: opts.panelId } : {}),
    };
    const body = {
      Name: name,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: image,
          ...(spec.command && spec.command.length > 0 ? { Args: spec.command } : {}),
          Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
          Labels: labels,
          Init: true,
          // the shutdown delay, then up to 10 s for requests in flight (the replica app's own bound)
          StopGracePeriod: (SWARM_SHUTDOWN_DELAY_MS + 10_000) * 1e6,
        },
        Resources: { Limits: { ...(memoryBytes ? { MemoryBytes: memoryBytes } : {}), ...(spec.cpuLimit ? { NanoCPUs: Math.round(spec.cpuLimit * 1e9) } : {}) } },
        RestartPolicy: { Condition: "any", Delay: 1e9 },
        Networks: [{ Target: network }],
      },
      Mode: { Replicated: { Replicas: spec.replicas } },
      EndpointSpec: { Mode: "dnsrr" },
      UpdateConfig: { Parallelism: 1, Order: "start-first", FailureAction: "rollback", Monitor: 5e9 },
      RollbackConfig: { Parallelism: 1, Order: "start-first", FailureAction: "pause" },
    };
    try {
      const created = (await docker.createService(body as unknown as Docker.CreateServiceOptions)) as unknown as { id?: string; ID?: string };
      invalidate();
      return { id: created.id ?? created.ID ?? "", name, created: true };
    } catch (e) {
      throw wrap(e, `create Swarm service ${name} from ${image}`);
    }
  }

  /** Set the number of replicas (version-checked, stale versions retried). */
  async function scale(serviceId: string, replicas: number): Promise<{ attempts: number }> {
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 1000) throw new AppError("bad_request", "replicas must be a whole number from 0 to 1000");
    return updateService(serviceId, (spec) => ({ ...spec, Mode: { Replicated: { Replicas: replicas } } }));
  }

  /**
   * Wait until exactly `replicas` tasks run, one per slot (and none is still being stopped); returns them.
   *
   * A slot can be left with two running tasks after a start-first update or rollback (moby
   * issue #43081: the rollback replaced a healthy task too, and Swarm's updater, which removes
   * a slot's extra task, only runs on the next change to the service). When a slot holds more
   * than one task Swarm wants running for `nudgeAfterMs` while no update is under way, the
   * service is re-written with a label changed (nothing the tasks run): the updater runs, finds
   * the slot dirty and keeps one task. Returned in `nudged` via the callback for the caller's log.
   */
  async function waitConverged(serviceId: string, replicas: number, timeoutMs = 60_000, opts: { nudgeAfterMs?: number; onNudge?: (slots: number[]) => void } = {}): Promise<SwarmTask[]> {
    const deadline = Date.now() + timeoutMs;
    const nudgeAfter = opts.nudgeAfterMs ?? 10_000;
    let duplicateSince: number | null = null;
    let nudges = 0;
    let last: SwarmTask[] = [];
    for (;;) {
      const all = await tasks(serviceId, { all: true });
      last = all.filter((t) => t.desiredState === "running");
      const lingering = all.filter((t) => t.desiredState !== "running" && t.state === "running");
      if (last.length === replicas && last.every((t) => t.state === "running" && t.address) && lingering.length === 0) return last;
      const dupSlots = duplicateSlots(last);
      if (dupSlots.length === 0) duplicateSince = null;
      else {
        duplicateSince ??= Date.now();
        if (Date.now() - duplicateSince >= nudgeAfter && nudges < 3) {
          const { outcome } = await updateStatus(serviceId);
          if (outcome !== "updating" && outcome !== "rolling-back") {
            await updateService(serviceId, (spec) => ({ ...spec, Labels: { ...spec.Labels, "switchyard.settle": String(Date.now()) } }));
            opts.onNudge?.(dupSlots);
            nudges++;
            duplicateSince = Date.now();
          }
        }
      }
      if (Date.now() > deadline) {
        const states = all.map((t) => `${t.slot}:${t.state}/${t.desiredState}${t.node ? `@${t.node}` : ""}${t.error ? ` (${t.error})` : ""}`).join(", ");
        throw new AppError("runtime_error", `Swarm service for ${serviceId} did not converge to ${replicas} running tasks in ${timeoutMs} ms${nudges ? ` (${nudges} nudges for duplicate slots)` : ""}: ${states}`);
      }
      await sleep(250);
    }
  }

  /**
   * HAProxy for the service, as a Swarm service on its overlay (swarm-balancer.ts), published
   * in host mode on a manager at `publishPort`; it follows the tasks through Docker's DNS.
   */
  let overlaySubnet: string | null = null;
  async function ensureBalancer(serviceId: string, b: { image: string; publishPort: number; slots?: number; adminPublishPort?: number; rules?: SwarmBalancerRules }) {
    const svc = (await cachedService(serviceId)) ?? (await mustFind(serviceId));
    const env = envOf(svc.info.Spec);
    const dataPort = Number(env.PORT ?? 0);
    let admin: { publishPort: number; adminPort: number; subnet: string } | undefined;
    if (b.adminPublishPort) {
      // an overlay's subnet does not change while it exists: read once
      if (!overlaySubnet) {
        const net = (await call(`inspect network ${network}`, () => docker.getNetwork(network).inspect())) as { IPAM?: { Config?: { Subnet?: string }[] } };
        overlaySubnet = net.IPAM?.Config?.find((c) => c.Subnet && c.Subnet.includes("."))?.Subnet ?? null;
      }
      if (!overlaySubnet) throw new AppError("runtime_error", `overlay ${network} has no IPv4 subnet`);
      admin = { publishPort: b.adminPublishPort, adminPort: Number(env.ADMIN_PORT ?? 0), subnet: overlaySubnet };
    }
    // the balancer as the shared snapshot saw it: nothing more is read while its config is unchanged
    const existing = (await snapshot()).services.find((x) => x.Spec.Labels?.[LABEL_BALANCER_OF] === serviceId && x.Spec.Name === `${svc.info.Spec.Name}-lb`) ?? null;
    try {
      const made = await ensureSwarmBalancer(docker, { serviceId, target: svc.info.Spec.Name, dataPort, slots: b.slots ?? 16, publishPort: b.publishPort, image: b.image, network, admin, rules: b.rules, panelId: opts.panelId }, existing);
      if (made.created || made.updated) invalidate();
      return made;
    } catch (e) {
      throw wrap(e, `create the balancer of Swarm service ${svc.info.Spec.Name}`);
    }
  }

  /**
   * The balancer of a service as it runs: its published ports and the address of the node its
   * task runs on (where those ports answer); null when it has none.
   */
  async function balancerOf(serviceId: string): Promise<{ name: string; host: string | null; dataPort: number; adminPort: number | null } | null> {
    const now = await snapshot();
    const lb = (now.services as unknown as BalancerInfo[]).find((x) => x.Spec.Labels?.[LABEL_BALANCER_OF] === serviceId);
    if (!lb) return null;
    const ports = (lb.Spec.EndpointSpec?.Ports ?? []).map((p) => p.PublishedPort ?? 0);
    const running = now.tasks.find((t) => t.ServiceID === lb.ID && t.DesiredState === "running" && t.Status.State === "running");
    let host: string | null = null;
    if (running?.NodeID) host = (await nodes()).find((n) => n.id === running.NodeID)?.addr ?? null;
    return { name: lb.Spec.Name, host, dataPort: ports[0] ?? 0, adminPort: ports[1] ?? null };
  }

  /** Ports the panel's Swarm balancers publish now (to give a new one ports no other holds). */
  async function balancerPortsInUse(): Promise<Set<number>> {
    const list = ((await snapshot(0)).services as unknown as BalancerInfo[]).filter((x) => x.Spec.Labels?.[LABEL_BALANCER_OF] !== undefined);
    return new Set(list.flatMap((lb) => (lb.Spec.EndpointSpec?.Ports ?? []).map((p) => p.PublishedPort ?? 0)));
  }

  /** Removes the service and its balancer. */
  async function removeService(serviceId: string): Promise<void> {
    invalidate();
    await removeSwarmBalancer(docker, serviceId).catch((e: unknown) => {
      throw wrap(e, `remove the balancer of service ${serviceId}`);
    });
    const svc = await findService(serviceId);
    if (!svc) return;
    try {
      await svc.remove();
    } catch (e) {
      if (statusOf(e) !== 404) throw wrap(e, `remove Swarm service ${svc.info.Spec.Name}`);
    } finally {
      invalidate();
    }
  }

  /**
   * This panel's Swarm services and balancers (its LABEL_PANEL) whose service does not `exist`
   * (its row is gone: deleted while the panel was down, a database restored from before it) are
   * removed with their configs, and so are balancer configs no service uses any more (left by a
   * rules change). Returns the Swarm services removed. Nothing without a panel id.
   */
  async function sweepOrphans(exists: (serviceId: string) => Promise<boolean>): Promise<string[]> {
    if (!opts.panelId) return [];
    const removed: string[] = [];
    const { services } = await snapshot(0);
    for (const x of services) {
      const labels = x.Spec.Labels ?? {};
      if (labels[LABEL_PANEL] !== opts.panelId) continue;
      const of = labels[LABEL_SERVICE] ?? labels[LABEL_BALANCER_OF];
      // asked now, after the listing: a service created meanwhile has its row before its Swarm service
      if (!of || (await exists(of))) continue;
      if (labels[LABEL_SERVICE]) await removeService(of);
      else await removeSwarmBalancer(docker, of);
      removed.push(x.Spec.Name);
    }
    const used = new Set(services.flatMap((x) => ((x.Spec.TaskTemplate as { ContainerSpec?: { Configs?: { ConfigID?: string }[] } } | undefined)?.ContainerSpec?.Configs ?? []).map((c) => c.ConfigID)));
    const configs = (await call("list configs", () => docker.listConfigs({ filters: { label: [`${LABEL_PANEL}=${opts.panelId}`] } }))) as { ID: string; Spec?: { Labels?: Record<string, string> } }[];
    for (const c of configs) {
      if (c.Spec?.Labels?.[LABEL_BALANCER_OF] === undefined || used.has(c.ID)) continue;
      // still held by a task being replaced: refused for now, removed by a later sweep
      await docker.getConfig(c.ID).remove().catch(() => undefined);
    }
    invalidate();
    return removed;
  }

  /**
   * The service's members for the controller (cluster.ts): tasks Swarm wants running, tasks
   * still running that it is stopping, and tasks that failed or were rejected in the last
   * `failedWithinMs` (so their error can be reported once).
   */
  async function members(serviceId: string, { failedWithinMs = 30_000 }: { failedWithinMs?: number } = {}): Promise<ClusterMember[]> {
    const svc = await cachedService(serviceId);
    if (!svc) return [];
    const env = envOf(svc.info.Spec);
    const ports = { data: Number(env.PORT ?? 0), admin: Number(env.ADMIN_PORT ?? 0) };
    const out: ClusterMember[] = [];
    // a node that is down cannot report its tasks stopped: they are gone, whatever they last said
    const down = new Set((await nodes()).filter((n) => n.state === "down").map((n) => n.id));
    for (const t of await tasks(serviceId, { all: true })) {
      if (down.has(t.nodeId)) continue;
      const failed = t.state === "failed" || t.state === "rejected";
      const stopping = t.desiredState !== "running" && (t.state === "running" || t.state === "starting");
      if (failed ? Date.now() - t.startedAt.getTime() > failedWithinMs : t.desiredState !== "running" && !stopping) continue;
      const running = t.state === "running" && t.address !== null;
      out.push({
        // [a-z0-9] only (the API's id parameter): s<slot>t<the task id's first 12>
        id: `s${t.slot}t${t.taskId.slice(0, 12)}`,
        ref: t.taskId,
        slot: t.slot,
        node: t.node || null,
        containerId: t.containerId,
        dataAddr: t.address ? { host: t.address, port: ports.data } : null,
        adminAddr: t.address ? { host: t.address, port: ports.admin } : null,
        state: failed ? "failed" : stopping ? "stopping" : running ? "running" : "starting",
        ready: running && !stopping,
        serving: running && !stopping,
        error: t.error,
        startedAt: t.startedAt,
      });
    }
    return out;
  }

  /** The last lines of one task's log, through the manager (the Engine API's task logs). */
  async function memberLogs(serviceId: string | null, taskId: string, lines: number): Promise<string[]> {
    if (!/^[a-z0-9]{10,64}$/.test(taskId)) throw new AppError("bad_request", "not a task id");
    const t = (await call(`inspect task ${taskId}`, () => docker.getTask(taskId).inspect())) as TaskInfo;
    // only a task of one of this panel's services (of `serviceId` when given)
    const mine = serviceId ? (await findService(serviceId))?.info.ID : (await managedServices()).find((x) => x.ID === t.ServiceID)?.ID;
    if (!mine || t.ServiceID !== mine) throw new AppError("not_found", `task ${taskId} is not one of ${serviceId ? `service ${serviceId}'s` : "the panel's"}`);
    const n = Math.max(1, Math.min(1000, Math.floor(lines)));
    const raw = (await call(`logs of task ${taskId}`, () =>
      (docker.getTask(taskId) as unknown as { logs(o: object): Promise<Buffer | string> }).logs({ stdout: true, stderr: true, tail: n, follow: false }),
    )) as Buffer | string;
    const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
    // a task without a tty answers in Docker's multiplexed frames, like a container
    const framed = buf.length >= 8 && (buf[0] === 1 || buf[0] === 2) && buf.readUInt16BE(1) === 0 && buf[3] === 0;
    return (framed ? formatLogLines(demuxDockerLog(buf)) : buf.toString("utf8").split("\n").filter(Boolean)).slice(-n);
  }

  async function status(serviceId: string) {
    const svc = await cachedService(serviceId);
    if (!svc) return { desired: null };
    const u = updateOutcomeOf(svc.info);
    return { desired: svc.info.Spec.Mode?.Replicated?.Replicas ?? null, update: { outcome: u.outcome, message: u.message } };
  }

  function toReplica(svc: ServiceInfo, t: SwarmTask): RuntimeReplica {
    const labels = svc.Spec.Labels ?? {};
    const env = envOf(svc.Spec);
    const host = t.address ?? "";
    return {
      replicaId: `${svc.Spec.Name}.${t.slot}`,
      serviceId: labels[LABEL_SERVICE] ?? "",
      serviceName: labels[LABEL_SERVICE_NAME] ?? "",
      runtimeRef: t.taskId,
      dataAddr: { host, port: Number(env.PORT ?? 0) },
      adminAddr: { host, port: Number(env.ADMIN_PORT ?? 0) },
      state: mapTaskState(t.state),
      startedAt: t.startedAt,
      exitCode: null,
      oomKilled: false,
      reason: t.error,
    };
  }

  async function managedServices(): Promise<ServiceInfo[]> {
    return (await call("list services", () => docker.listServices({ filters: { label: labelFilters } }))) as unknown as ServiceInfo[];
  }

  const runtime = {
    kind: "swarm" as const,

    async available() {
      try {
        const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
        if (info.Swarm?.LocalNodeState !== "active") return { ok: false as const, reason: `the Docker engine at ${where} is not part of a swarm (state ${info.Swarm?.LocalNodeState ?? "unknown"})` };
        if (!info.Swarm.ControlAvailable) return { ok: false as const, reason: `the Docker engine at ${where} is a swarm worker, not a manager: point SWARM_MANAGER at a manager` };
        return { ok: true as const };
      } catch (e) {
        return { ok: false as const, reason: wrap(e, `ask the Swarm manager at ${where}`).message };
      }
    },

    /** Every running task of this panel's Swarm services, one replica each. */
    async list() {
      const out: RuntimeReplica[] = [];
      for (const svc of await managedServices()) {
        const id = svc.Spec.Labels?.[LABEL_SERVICE];
        if (!id) continue;
        for (const t of await tasks(id)) out.push(toReplica(svc, t));
      }
      return out;
    },

    ...refusedReplicaLifecycle("swarm", "Swarm schedules the tasks of a service; scale the service instead"),

    /** A task by its id (runtimeRef). */
    async inspect(ref: string) {
      if (!/^[a-z0-9]{10,64}$/.test(ref)) return null;
      let t: TaskInfo;
      try {
        t = (await docker.getTask(ref).inspect()) as TaskInfo;
      } catch (e) {
        if (statusOf(e) === 404) return null;
        throw wrap(e, `inspect task ${ref}`);
      }
      const svc = (await managedServices()).find((s) => s.ID === t.ServiceID);
      return svc ? toReplica(svc, await toTask(t)) : null;
    },

    /** Not here: a task's figures live on its node's engine (the collector reads them through the balancer, lib/controller/cluster-stats.ts). */
    async stats() {
      return null;
    },
    /** A task's last lines, through the manager (the Engine API's task logs, which it gathers from the task's node). */
    async logs(ref: string, lines: number) {
      return memberLogs(null, ref, lines);
    },
    onEvent() {
      return () => undefined;
    },

    // Swarm-specific
    ensureService,
    scale,
    updateService,
    tasks,
    waitConverged,
    removeService,
    ensureBalancer,
    nodes,
    setNodeAvailability,
    updateTasks,
    updateStatus,
    rollback,
    rolloutProgress,
    members,
    memberLogs,
    status,
    balancerOf,
    balancerPortsInUse,
    sweepOrphans,
    network,
    /** Engine API requests made so far */
    apiCalls: () => apiCalls,
  } satisfies Runtime & Record<string, unknown>;

  return runtime;
}

export type SwarmRuntime = ReturnType<typeof createSwarmRuntime>;

/** The Swarm runtime seen through the service-level port (cluster.ts) that the controller drives. */
export function swarmCluster(rt: SwarmRuntime): ClusterRuntime & { swarm: SwarmRuntime } {
  return {
    kind: "swarm",
    swarm: rt,
    available: () => rt.available(),
    ensureService: (spec) => rt.ensureService(spec),
    scale: (id, n) => rt.scale(id, n),
    status: (id) => rt.status(id),
    members: (id) => rt.members(id),
    removeService: (id) => rt.removeService(id),
    nodes: async () => (await rt.nodes()).map((n) => ({ id: n.id, name: n.hostname, role: n.role, state: n.state, availability: n.availability, addr: n.addr })),
    setNodeAvailability: (id, a) => rt.setNodeAvailability(id, a),
    memberLogs: (id, ref, lines) => rt.memberLogs(id, ref, lines),
    sweepOrphans: (exists) => rt.sweepOrphans(exists),
  } satisfies ClusterRuntime & { swarm: SwarmRuntime };
}

type ServiceSpec = {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate?: { ContainerSpec?: { Env?: string[] } };
  Mode?: { Replicated?: { Replicas?: number } };
  [k: string]: unknown;
};
type BalancerInfo = { ID: string; Spec: { Name: string; Labels?: Record<string, string>; EndpointSpec?: { Ports?: { PublishedPort?: number }[] } } };
type ServiceInfo = { ID: string; Version: { Index: number }; Spec: ServiceSpec };
type NodeInfo = {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Role?: string; Availability?: string };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean };
};

type Snapshot = { services: ServiceInfo[]; tasks: TaskInfo[]; nodes: NodeInfo[] };

/** How long one read of the panel's Swarm services, tasks and nodes serves every reconcile (a resync is every 3 s). */
const SNAPSHOT_MS = 1000;

/** Where a service's last update stands, in Swarm's words and the panel's ("rolled-back" is never done). */
function updateOutcomeOf(info: ServiceInfo): { state: string; outcome: "none" | "updating" | "done" | "paused" | "rolling-back" | "rolled-back"; message: string | null } {
  const st = (info as unknown as { UpdateStatus?: { State?: string; Message?: string } }).UpdateStatus;
  const state = st?.State ?? "";
  const outcome = ({ updating: "updating", completed: "done", paused: "paused", rollback_started: "rolling-back", rollback_paused: "paused", rollback_completed: "rolled-back" } as const)[state] ?? "none";
  return { state, outcome, message: st?.Message ?? null };
}

function envOf(spec: ServiceSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of spec.TaskTemplate?.ContainerSpec?.Env ?? []) {
    const i = kv.indexOf("=");
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
