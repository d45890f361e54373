/**
 * The Docker runtime: replicas are containers, through the Engine API (dockerode,
 * API version 1.41 — what dockerd 20.10 speaks; never ask for newer).
 *
 * Containers are named `sy-<service>-<shortReplicaId>` and labelled
 * switchyard.managed=true, .service, .service-name, .replica, .data-port, .admin-port,
 * .network; the runtime lists and touches only containers with switchyard.managed=true.
 *
 * Networks:
 * - "host": the container shares the host's network; data and admin ports come from
 *   the port range (checked free), the app binds 127.0.0.1, addresses are 127.0.0.1:port.
 * - any other name: a bridge network (created when missing); the app listens on the
 *   service's own ports on 0.0.0.0 inside its container and is reached by container
 *   name (Docker's DNS on that network), so the panel must be on that network too.
 *
 * Containers never run as root unless an admin allowed it for the service: the image's
 * own user when it is not root, else 65534:65534 (container-user.ts).
 *
 * runtimeRef is the container id. Methods also accept the replica id or the container name.
 * stats() never waits for Docker's stats endpoint (1.5 s a call): it reads the
 * container's cgroup files when this process can see them, else it returns the last
 * value of a cache refreshed in the background with one-shot API calls.
 */
import Docker from "dockerode";
import { AppError } from "@/lib/core/errors";
import { createPortAllocator, type PortRange } from "./ports";
import { containerName } from "./container-name";
import { containerUser } from "./container-user";
import { demuxDockerLog, formatLogLines } from "./docker-log";
import { createEventHub } from "./event-hub";
import { connectionOptions, type DockerEndpoint } from "./docker-connection";
import { DOCKER_API_VERSION, dockerErrors, dockerMessage, statusOf } from "./docker-errors";
import { createDockerStats } from "./docker-stats";
import { createDockerEvents, isManagedLabels } from "./docker-events";
import { describeExit } from "./exit-reason";
import { sleep } from "@/lib/process/sleep";
import { isSafeReplicaId, replicaEnv } from "./replica-env";
import { processCgroupDirs } from "./cgroup";
import {
  LABEL_MANAGED,
  LABEL_REPLICA,
  LABEL_SERVICE,
  LABEL_SERVICE_NAME,
  type KillSignal,
  type ReplicaCgroups,
  type ReplicaSpec,
  type ReplicaStats,
  type Runtime,
  type RuntimeReplica,
  type RuntimeReplicaState,
} from "./types";

export const LABEL_DATA_PORT = "switchyard.data-port";
export const LABEL_ADMIN_PORT = "switchyard.admin-port";
export const LABEL_NETWORK = "switchyard.network";
export const LABEL_PANEL = "switchyard.panel";

export { DOCKER_API_VERSION };

export type DockerRuntimeOptions = DockerEndpoint & {
  /** "host" or the name of a bridge network */
  network: "host" | string;
  /** host network only: where data and admin ports come from */
  portRange: PortRange;
  /** image used when a spec names none */
  defaultImage?: string;
  /** grace given to restart(); default 5000 ms */
  restartGraceMs?: number;
  /** least time between two background stats refreshes of one container (API fallback); default 2000 ms */
  statsRefreshMs?: number;
  /**
   * "auto" (default): the container's cgroup files when this process can see them, else
   * the API; "api": always Docker's one-shot stats call (refreshed in the background).
   */
  statsFrom?: "auto" | "api";
  /** how long available() waits for a ping; default 3000 ms */
  pingTimeoutMs?: number;
  /**
   * This panel's id: containers it creates carry it (switchyard.panel), and list() and
   * events see only those, so panels sharing one Docker engine never touch each other's
   * replicas. Without it, every Switchyard-labelled container is listed.
   */
  panelId?: string;
};

function mapState(status: string): RuntimeReplicaState {
  switch (status) {
    case "running":
    case "paused": // frozen by a fault (lib/faults): still there, not to be replaced
      return "running";
    case "exited":
    case "dead":
      return "exited";
    case "created":
      return "created";
    default:
      return "unknown"; // restarting, removing
  }
}

export function createDockerRuntime(opts: DockerRuntimeOptions) {
  const { options, where } = connectionOptions(opts);
  const docker = new Docker(options);
  const isHostNetwork = opts.network === "host";
  const restartGraceMs = opts.restartGraceMs ?? 5000;
  const statsRefreshMs = opts.statsRefreshMs ?? 2000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 3000;
  const ports = createPortAllocator(opts.portRange, "127.0.0.1");
  const hub = createEventHub({ watch: () => events.watch(), unwatch: () => events.unwatch() });
  const managedFilter = `${LABEL_MANAGED}=true`;
  const panelFilters = opts.panelId ? [`${LABEL_PANEL}=${opts.panelId}`] : [];

  const { wrap, call } = dockerErrors(where);

  const isManaged = isManagedLabels;

  /** The image's configured user ("" when it sets none: root); fails when the image is missing. */
  async function ensureImage(image: string): Promise<string> {
    try {
      return (await docker.getImage(image).inspect()).Config?.User ?? "";
    } catch (e) {
      if (statusOf(e) === 404) {
        throw new AppError("runtime_error", `image ${image} is not present on the Docker engine; build it with scripts/build-replica-image.sh`, { image });
      }
      throw wrap(e, `inspect image ${image}`);
    }
  }

  let networkReady: Promise<void> | null = null;
  function ensureNetwork(): Promise<void> {
    networkReady ??= (async () => {
      try {
        await docker.getNetwork(opts.network).inspect();
        return;
      } catch (e) {
        if (statusOf(e) !== 404) throw wrap(e, `inspect network ${opts.network}`);
      }
      try {
        await docker.createNetwork({ Name: opts.network, Driver: "bridge", CheckDuplicate: true, Labels: { [LABEL_MANAGED]: "true" } });
      } catch (e) {
        if (statusOf(e) !== 409) throw wrap(e, `create network ${opts.network}`);
      }
    })().catch((e: unknown) => {
      networkReady = null;
      throw e;
    });
    return networkReady;
  }

  async function managedContainers(...extraLabels: string[]): Promise<Docker.ContainerInfo[]> {
    const label = [managedFilter, ...extraLabels];
    return call("list containers", () => docker.listContainers({ all: true, filters: { label } }));
  }

  async function usedHostPorts(): Promise<number[]> {
    const containers = await managedContainers();
    return containers
      .filter((c) => c.Labels[LABEL_NETWORK] === "host")
      .flatMap((c) => [Number(c.Labels[LABEL_DATA_PORT]), Number(c.Labels[LABEL_ADMIN_PORT])])
      .filter((p) => Number.isInteger(p) && p > 0);
  }

  async function inspectManaged(ref: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      const info = await docker.getContainer(ref).inspect();
      return isManaged(info.Config.Labels) ? info : null;
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw wrap(e, `inspect container ${ref}`);
    }
  }

  /** A ref is a container id, a replica id or a container name; only managed containers resolve. */
  async function find(ref: string): Promise<Docker.ContainerInspectInfo | null> {
    if (!ref) return null;
    const looksLikeId = /^[0-9a-f]{12,64}$/.test(ref);
    if (looksLikeId) {
      const byId = await inspectManaged(ref);
      if (byId) return byId;
    }
    if (isSafeReplicaId(ref)) {
      const [byReplica] = await managedContainers(`${LABEL_REPLICA}=${ref}`);
      if (byReplica) return inspectManaged(byReplica.Id);
    }
    return looksLikeId ? null : inspectManaged(ref);
  }

  async function logTail(id: string, lines: number): Promise<string[]> {
    try {
      const buf = await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false });
      return formatLogLines(demuxDockerLog(Buffer.isBuffer(buf) ? buf : Buffer.from(buf)));
    } catch (e) {
      // Gone, or being removed ("dead or marked for removal"): nothing to show.
      if (statusOf(e) === 404 || /marked for removal|is dead/i.test(dockerMessage(e))) return [];
      throw wrap(e, `read the logs of container ${id}`);
    }
  }

  function toReplica(info: Docker.ContainerInspectInfo, tail?: string[]): RuntimeReplica {
    const labels = info.Config.Labels;
    const name = info.Name.replace(/^\//, "");
    const hostMode = (labels[LABEL_NETWORK] ?? info.HostConfig.NetworkMode) === "host";
    const host = hostMode ? "127.0.0.1" : name;
    const state = mapState(info.State.Status);
    const running = state === "running";
    const started = Date.parse(info.State.StartedAt);
    const exitCode = running || state === "created" ? null : info.State.ExitCode;
    const memory = info.HostConfig.Memory ?? 0;
    return {
      replicaId: labels[LABEL_REPLICA],
      serviceId: labels[LABEL_SERVICE] ?? "",
      serviceName: labels[LABEL_SERVICE_NAME] ?? "",
      runtimeRef: info.Id,
      dataAddr: { host, port: Number(labels[LABEL_DATA_PORT]) },
      adminAddr: { host, port: Number(labels[LABEL_ADMIN_PORT]) },
      state,
      startedAt: new Date(started > 0 ? started : Date.parse(info.Created)),
      exitCode,
      oomKilled: Boolean(info.State.OOMKilled),
      reason: running
        ? null
        : describeExit({
            exitCode,
            oomKilled: Boolean(info.State.OOMKilled),
            memoryLimitMb: memory > 0 ? Math.round(memory / 1048576) : null,
            startError: info.State.Error || null,
            logTail: tail,
          }),
    };
  }

  /** list(): the inspect answer of each container seen running, while it runs (see list) */
  const runningInfo = new Map<string, Docker.ContainerInspectInfo>();
  const statsCache = createDockerStats({ docker, find, statsFrom: opts.statsFrom ?? "auto", refreshMs: statsRefreshMs });
  const events = createDockerEvents({
    docker,
    labels: [managedFilter, ...panelFilters],
    listeners: () => hub.size(),
    emit: (e) => hub.emit(e),
    onDie: (id) => {
      statsCache.forgetContainer(id);
      runningInfo.delete(id);
    },
  });

  const runtime = {
    kind: "docker" as const,

    async available() {
      try {
        await Promise.race([
          docker.ping(),
          sleep(pingTimeoutMs).then(() => {
            throw Object.assign(new Error(`no answer within ${pingTimeoutMs} ms`), { code: "ETIMEDOUT" });
          }),
        ]);
        await docker.version();
        return { ok: true as const };
      } catch (e) {
        return { ok: false as const, reason: wrap(e, `ping the Docker engine at ${where}`).message };
      }
    },

    /**
     * One list call; a container is inspected only when it is new to this list or not
     * running (the list's summary lacks the start time, exit code, OOM flag and network
     * mode toReplica needs). A running container's inspect answer is kept while the list
     * says it runs: what toReplica reads from it does not change while it runs, and
     * whatever ends a run (its death, seen by the events stream; stop, restart, remove
     * here) drops it. The controller lists every few seconds: with 50 containers that was
     * 51 API calls a list, now one.
     */
    async list() {
      const containers = await managedContainers(...panelFilters);
      const listed = new Set(containers.map((c) => c.Id));
      for (const id of runningInfo.keys()) if (!listed.has(id)) runningInfo.delete(id);
      const infos = await Promise.all(
        containers.map(async (c) => {
          const kept = c.State === "running" ? runningInfo.get(c.Id) : undefined;
          if (kept) return kept;
          runningInfo.delete(c.Id);
          const info = await inspectManaged(c.Id);
          if (info && c.State === "running" && info.State.Status === "running") runningInfo.set(c.Id, info);
          return info;
        }),
      );
      return infos.filter((i): i is Docker.ContainerInspectInfo => i !== null).map((i) => toReplica(i));
    },

    async create(spec: ReplicaSpec) {
      if (!isSafeReplicaId(spec.replicaId)) {
        throw new AppError("bad_request", `replica id ${JSON.stringify(spec.replicaId)} is not usable in a container name`);
      }
      const image = spec.image ?? opts.defaultImage;
      if (!image) throw new AppError("bad_request", `service ${spec.serviceName} has no image for the Docker runtime`);
      // never root unless an admin allowed it for this service: an image that runs as root gets nobody
      const user = containerUser(await ensureImage(image), spec.allowRoot ?? false);
      if (!isHostNetwork) await ensureNetwork();
      const name = containerName(spec.serviceName, spec.replicaId);

      let reserved: number[] = [];
      let dataPort = spec.dataPort;
      let adminPort = spec.adminPort;
      if (isHostNetwork) {
        reserved = await ports.allocate(await usedHostPorts(), 2);
        [dataPort, adminPort] = reserved;
      }
      const memoryBytes = spec.memoryLimitMb > 0 ? spec.memoryLimitMb * 1024 * 1024 : 0;
      const body: Docker.ContainerCreateOptions = {
        name,
        Image: image,
        ...(user ? { User: user } : {}),
        ...(spec.command && spec.command.length > 0 ? { Cmd: spec.command } : {}),
        Env: Object.entries(
          replicaEnv(spec, { dataPort, adminPort, bindHost: isHostNetwork ? "127.0.0.1" : "0.0.0.0" }),
        ).map(([k, v]) => `${k}=${v}`),
        Labels: {
          [LABEL_MANAGED]: "true",
          [LABEL_SERVICE]: spec.serviceId,
          [LABEL_SERVICE_NAME]: spec.serviceName,
          [LABEL_REPLICA]: spec.replicaId,
          [LABEL_DATA_PORT]: String(dataPort),
          [LABEL_ADMIN_PORT]: String(adminPort),
          [LABEL_NETWORK]: opts.network,
          ...(opts.panelId ? { [LABEL_PANEL]: opts.panelId } : {}),
        },
        HostConfig: {
          NetworkMode: opts.network,
          ...(memoryBytes ? { Memory: memoryBytes, MemorySwap: memoryBytes } : {}),
          ...(spec.cpuLimit ? { NanoCpus: Math.round(spec.cpuLimit * 1e9) } : {}),
          Init: true,
          RestartPolicy: { Name: "no" },
        },
      };

      try {
        let container: Docker.Container;
        try {
          container = await docker.createContainer(body);
        } catch (e) {
          if (statusOf(e) !== 409) throw wrap(e, `create container ${name} from ${image}`);
          // The name is taken: reuse it only if it is this replica's old, stopped container.
          const existing = await call(`inspect container ${name}`, () => docker.getContainer(name).inspect());
          const labels = existing.Config.Labels;
          if (!isManaged(labels) || labels[LABEL_REPLICA] !== spec.replicaId) {
            throw new AppError("conflict", `a container named ${name} exists and is not this replica's; remove or rename it`);
          }
          if (existing.State.Running) throw new AppError("conflict", `replica ${spec.replicaId} already runs as container ${name}`);
          await call(`remove old container ${name}`, () => docker.getContainer(existing.Id).remove({ force: true }));
          container = await call(`create container ${name} from ${image}`, () => docker.createContainer(body));
        }
        try {
          await container.start();
        } catch (e) {
          const err = wrap(e, `start container ${name}`);
          await container.remove({ force: true }).catch(() => undefined);
          if (/address already in use/i.test(err.message)) {
            throw new AppError("runtime_error", `cannot start ${name}: port ${dataPort} or ${adminPort} is already in use: ${err.message}`);
          }
          throw err;
        }
        return toReplica(await call(`inspect container ${name}`, () => container.inspect()));
      } finally {
        ports.release(reserved);
      }
    },

    async stop(ref: string, graceMs: number) {
      const info = await find(ref);
      if (!info || !info.State.Running) return;
      runningInfo.delete(info.Id);
      try {
        await docker.getContainer(info.Id).stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) });
      } catch (e) {
        const status = statusOf(e);
        if (status === 304 || status === 404) return; // already stopped or gone
        throw wrap(e, `stop container ${info.Name.replace(/^\//, "")}`);
      }
    },

    /** Removes the container, killing it first if it still runs. */
    async remove(ref: string) {
      const info = await find(ref);
      statsCache.forget(ref);
      if (!info) return;
      statsCache.forget(info.Id);
      runningInfo.delete(info.Id);
      try {
        await docker.getContainer(info.Id).remove({ force: true, v: true });
      } catch (e) {
        if (statusOf(e) === 404) return;
        throw wrap(e, `remove container ${info.Name.replace(/^\//, "")}`);
      }
    },

    /** Docker's restart (restartGraceMs grace): same container, same ports and environment. */
    async restart(ref: string) {
      const info = await find(ref);
      if (!info) throw new AppError("not_found", `no replica ${ref} in the Docker runtime`);
      const container = docker.getContainer(info.Id);
      runningInfo.delete(info.Id);
      await call(`restart container ${info.Name.replace(/^\//, "")}`, () =>
        container.restart({ t: Math.ceil(restartGraceMs / 1000) }),
      );
      runningInfo.delete(info.Id); // a list() during the restart may have kept the old run's answer
      return toReplica(await call(`inspect container ${info.Id}`, () => container.inspect()));
    },

    async inspect(ref: string) {
      const info = await find(ref);
      if (!info) return null;
      return toReplica(info, info.State.Running ? undefined : await logTail(info.Id, 20));
    },

    /** Returns at once: cgroup files when visible, else the last cached API value (refreshed in the background). */
    stats: (ref: string): Promise<ReplicaStats | null> => statsCache.stats(ref),

    /** The last `lines` lines of the container's output; stderr lines start with "stderr: ". */
    async logs(ref: string, lines: number) {
      if (lines <= 0) return [];
      const info = await find(ref);
      return info ? logTail(info.Id, lines) : [];
    },

    /** "started", "died" (exit code; every stop, like Docker's die) and "oom", from Docker's event stream. */
    onEvent: hub.on,

    /** docker pause (the cgroup freezer). */
    async pause(ref: string) {
      const info = await find(ref);
      if (!info || !info.State.Running) throw new AppError("conflict", `replica ${ref} is not running`);
      if (info.State.Paused) return;
      await call(`pause container ${info.Name.replace(/^\//, "")}`, () => docker.getContainer(info.Id).pause());
    },

    async unpause(ref: string) {
      const info = await find(ref);
      if (!info || !info.State.Paused) return;
      await call(`unpause container ${info.Name.replace(/^\//, "")}`, () => docker.getContainer(info.Id).unpause());
    },

    async isPaused(ref: string) {
      return Boolean((await find(ref))?.State.Paused);
    },

    /** docker kill --signal (Init: true forwards it to the app). */
    async signal(ref: string, sig: KillSignal) {
      const info = await find(ref);
      if (!info || !info.State.Running) throw new AppError("conflict", `replica ${ref} is not running`);
      await call(`send ${sig} to container ${info.Name.replace(/^\//, "")}`, () => docker.getContainer(info.Id).kill({ signal: sig }));
    },

    /** The container's own cgroups, read from its main process (the panel must share the host's /proc and /sys/fs/cgroup). */
    async cgroupsOf(ref: string): Promise<ReplicaCgroups> {
      const info = await find(ref);
      if (!info || !info.State.Running || !info.State.Pid) return { ok: false, reason: `replica ${ref} is not running` };
      const found = await processCgroupDirs(info.State.Pid);
      if (!found) return { ok: false, reason: `the cgroups of container ${info.Id.slice(0, 12)} (pid ${info.State.Pid}) are not visible from the panel: it must run on the Docker host, with its /proc and /sys/fs/cgroup` };
      const own = found.dirs.filter((d) => d.includes(info.Id));
      return own.length > 0 ? { ok: true, version: found.version, dirs: own } : { ok: false, reason: `container ${info.Id.slice(0, 12)} has no cgroup of its own visible here (${found.dirs.join(", ")})` };
    },
  } satisfies Runtime;

  return runtime;
}

export type DockerRuntime = ReturnType<typeof createDockerRuntime>;
