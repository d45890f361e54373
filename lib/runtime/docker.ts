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
import { readCgroupSample, resolveCgroupFiles, type CgroupFiles, type CgroupSample } from "./cgroup";
import { containerName } from "./container-name";
import { containerUser } from "./container-user";
import { demuxDockerLog, formatLogLines } from "./docker-log";
import { createEventHub } from "./event-hub";
import { describeExit } from "./exit-reason";
import { cpuPercentBetween, type CpuSample } from "@/lib/process/proc-stat";
import { sleep } from "@/lib/process/sleep";
import { isSafeReplicaId, replicaEnv } from "./replica-env";
import {
  LABEL_MANAGED,
  LABEL_REPLICA,
  LABEL_SERVICE,
  LABEL_SERVICE_NAME,
  type ReplicaSpec,
  type ReplicaStats,
  type Runtime,
  type RuntimeEvent,
  type RuntimeReplica,
  type RuntimeReplicaState,
} from "./types";

export const LABEL_DATA_PORT = "switchyard.data-port";
export const LABEL_ADMIN_PORT = "switchyard.admin-port";
export const LABEL_NETWORK = "switchyard.network";
export const LABEL_PANEL = "switchyard.panel";

export const DOCKER_API_VERSION = "v1.41";

export type DockerRuntimeOptions = {
  /** default /var/run/docker.sock */
  socketPath?: string;
  /** unix:///path or tcp://host:port (plain HTTP); used when socketPath is not given */
  dockerHost?: string;
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

type DockerError = Error & { statusCode?: number; json?: unknown; reason?: string; code?: string };

const CONNECTION_ERRORS = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND"]);

function statusOf(e: unknown): number | undefined {
  return (e as DockerError | undefined)?.statusCode;
}

/** Docker's own message ("No such image: x"), not dockerode's "(HTTP code 404) ..." wrapper. */
function dockerMessage(e: unknown): string {
  const err = e as DockerError;
  const json = err?.json;
  if (json && typeof json === "object" && "message" in json && typeof json.message === "string") return json.message.trim();
  if (Buffer.isBuffer(json)) {
    try {
      const parsed = JSON.parse(json.toString("utf8")) as { message?: string };
      if (parsed.message) return parsed.message.trim();
    } catch {
      /* not JSON */
    }
  }
  return String(err?.message ?? e).trim();
}

function mapState(status: string): RuntimeReplicaState {
  switch (status) {
    case "running":
      return "running";
    case "exited":
    case "dead":
      return "exited";
    case "created":
      return "created";
    default:
      return "unknown"; // paused, restarting, removing
  }
}

function connectionOptions(opts: DockerRuntimeOptions): { options: Docker.DockerOptions; where: string } {
  // Explicit undefined values override what docker-modem would take from DOCKER_HOST.
  const base = { version: DOCKER_API_VERSION, protocol: "http" as const };
  if (!opts.socketPath && opts.dockerHost && !opts.dockerHost.startsWith("unix://")) {
    const raw = opts.dockerHost.includes("://") ? opts.dockerHost : `tcp://${opts.dockerHost}`;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new AppError("bad_request", `DOCKER_HOST ${opts.dockerHost} is not like tcp://127.0.0.1:2375 or unix:///var/run/docker.sock`);
    }
    if (url.protocol !== "tcp:" && url.protocol !== "http:") {
      throw new AppError("unsupported", `DOCKER_HOST ${opts.dockerHost}: only unix:// and plain tcp:// are supported`);
    }
    return { options: { ...base, host: url.hostname, port: Number(url.port || 2375), socketPath: undefined }, where: `tcp://${url.host}` };
  }
  const socketPath = opts.socketPath ?? (opts.dockerHost ? opts.dockerHost.slice("unix://".length) : "/var/run/docker.sock");
  return { options: { ...base, socketPath, host: undefined, port: undefined }, where: `unix://${socketPath}` };
}

export function createDockerRuntime(opts: DockerRuntimeOptions) {
  const { options, where } = connectionOptions(opts);
  const docker = new Docker(options);
  const isHostNetwork = opts.network === "host";
  const restartGraceMs = opts.restartGraceMs ?? 5000;
  const statsRefreshMs = opts.statsRefreshMs ?? 2000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 3000;
  const ports = createPortAllocator(opts.portRange, "127.0.0.1");
  const hub = createEventHub({ watch: () => watchEvents(), unwatch: () => disconnectEvents() });
  const managedFilter = `${LABEL_MANAGED}=true`;
  const panelFilters = opts.panelId ? [`${LABEL_PANEL}=${opts.panelId}`] : [];

  /** Turns a dockerode failure into an AppError an operator can act on. */
  function wrap(e: unknown, what: string): AppError {
    if (e instanceof AppError) return e;
    const err = e as DockerError;
    if (err?.code && CONNECTION_ERRORS.has(err.code) && err.statusCode === undefined) {
      return new AppError("unavailable", `cannot reach the Docker engine at ${where}: ${err.code} ${err.message ?? ""}`.trim());
    }
    const message = dockerMessage(e);
    if (/client version .* is too new/i.test(message)) {
      return new AppError("unavailable", `the Docker engine at ${where} is too old: Switchyard needs API ${DOCKER_API_VERSION.slice(1)} (Docker 20.10 or later): ${message}`);
    }
    const status = statusOf(e);
    if (status === 404) return new AppError("not_found", `${what}: ${message}`);
    if (status === 409) return new AppError("conflict", `${what}: ${message}`);
    return new AppError("runtime_error", `${what}: ${message}`, { status });
  }

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw wrap(e, what);
    }
  }

  const isManaged = (labels: Record<string, string> | null | undefined) =>
    labels?.[LABEL_MANAGED] === "true" && Boolean(labels[LABEL_REPLICA]);

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

  // --- stats: cgroup files when visible, else a background cache fed by one-shot API calls ---
  type StatsEntry = {
    id: string;
    cgroup: CgroupFiles | null;
    prevCpu: CpuSample | null;
    last: ReplicaStats | null;
    refreshedAt: number;
    refreshing: Promise<void> | null;
  };
  const statsCache = new Map<string, StatsEntry>();

  function recordSample(entry: StatsEntry, sample: CgroupSample, atMs: number, fallbackLimit: number | null): ReplicaStats {
    let cpuPercent = entry.last?.cpuPercent ?? 0;
    if (sample.cpuNs !== null) {
      const now: CpuSample = { cpu: sample.cpuNs, atMs };
      if (entry.prevCpu) cpuPercent = cpuPercentBetween(entry.prevCpu, now, 1e9);
      entry.prevCpu = now;
    }
    entry.last = { memoryBytes: sample.memoryBytes, memoryLimitBytes: sample.memoryLimitBytes ?? fallbackLimit, cpuPercent, at: atMs };
    return entry.last;
  }

  async function refreshStats(ref: string, entry: StatsEntry): Promise<void> {
    const info = await find(ref);
    if (!info || !info.State.Running) {
      statsCache.delete(ref);
      return;
    }
    entry.id = info.Id;
    const limit = info.HostConfig.Memory ? info.HostConfig.Memory : null;
    // The pid is Docker's view; only trust the cgroup if it names this container (same pid namespace).
    const cgroup = info.State.Pid && opts.statsFrom !== "api" ? await resolveCgroupFiles(info.State.Pid) : null;
    const dir = cgroup ? (cgroup.version === 1 ? cgroup.memoryDir : cgroup.dir) : "";
    if (cgroup && dir.includes(info.Id)) {
      entry.cgroup = cgroup;
      if (!entry.prevCpu) entry.prevCpu = { cpu: 0, atMs: Date.parse(info.State.StartedAt) };
      const sample = await readCgroupSample(cgroup);
      if (sample) recordSample(entry, sample, Date.now(), limit);
      return;
    }
    const s = await docker.getContainer(info.Id).stats({ stream: false, "one-shot": true });
    const mem = s.memory_stats;
    const inactive = mem?.stats?.total_inactive_file ?? (mem?.stats as { inactive_file?: number } | undefined)?.inactive_file ?? 0;
    const at = Date.parse(s.read) || Date.now();
    recordSample(
      entry,
      {
        memoryBytes: Math.max(0, (mem?.usage ?? 0) - inactive),
        memoryLimitBytes: mem?.limit && limit ? mem.limit : null,
        cpuNs: s.cpu_stats?.cpu_usage?.total_usage ?? null,
      },
      at,
      limit,
    );
  }

  function kickRefresh(ref: string, entry: StatsEntry): Promise<void> {
    entry.refreshing ??= refreshStats(ref, entry)
      .catch(() => undefined) // the next call tries again; stats are best effort
      .finally(() => {
        entry.refreshedAt = Date.now();
        entry.refreshing = null;
      });
    return entry.refreshing;
  }

  // --- events: one stream filtered by our label while someone listens, reconnected with backoff ---
  let events: NodeJS.ReadableStream | null = null;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let backoffMs = 500;
  let lastEventSeconds: number | undefined;
  const seenEvents: string[] = [];
  const oomSeen = new Set<string>();

  function handleEvent(msg: {
    Type?: string;
    Action?: string;
    status?: string;
    id?: string;
    time?: number;
    timeNano?: number;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
  }): void {
    if (msg.Type !== "container") return;
    const action = msg.Action ?? msg.status ?? "";
    const id = msg.Actor?.ID ?? msg.id ?? "";
    const key = `${id}:${action}:${msg.timeNano ?? msg.time}`;
    if (seenEvents.includes(key)) return; // replayed after a reconnect (since=)
    seenEvents.push(key);
    if (seenEvents.length > 500) seenEvents.splice(0, seenEvents.length - 500);
    if (msg.time) lastEventSeconds = msg.time;
    const attrs = msg.Actor?.Attributes ?? {};
    if (!isManaged(attrs)) return;
    const base = { replicaId: attrs[LABEL_REPLICA], serviceId: attrs[LABEL_SERVICE] ?? "" };
    let event: RuntimeEvent | null = null;
    if (action === "oom") {
      oomSeen.add(id);
      event = { kind: "oom", ...base, reason: describeExit({ exitCode: null, oomKilled: true }) };
    } else if (action === "die") {
      for (const [ref, entry] of statsCache) if (entry.id === id) statsCache.delete(ref);
      const exitCode = attrs.exitCode !== undefined ? Number(attrs.exitCode) : null;
      const oomKilled = oomSeen.delete(id);
      event = { kind: "died", ...base, exitCode, reason: describeExit({ exitCode, oomKilled }) };
    } else if (action === "start") {
      event = { kind: "started", ...base };
    }
    if (event) hub.emit(event);
  }

  function scheduleReconnect(): void {
    if (hub.size() === 0 || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connectEvents();
    }, backoffMs);
    reconnectTimer.unref();
    backoffMs = Math.min(backoffMs * 2, 30_000);
  }

  async function connectEvents(): Promise<void> {
    if (hub.size() === 0 || events) return;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await docker.getEvents({
        since: lastEventSeconds,
        filters: { type: ["container"], label: [managedFilter, ...panelFilters], event: ["start", "die", "oom"] },
      });
    } catch {
      scheduleReconnect();
      return;
    }
    if (hub.size() === 0) {
      (stream as unknown as { destroy(): void }).destroy();
      return;
    }
    events = stream;
    backoffMs = 500;
    let buffered = "";
    stream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          handleEvent(JSON.parse(line));
        } catch {
          /* a line we do not understand */
        }
      }
    });
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      if (events === stream) events = null;
      scheduleReconnect();
    };
    stream.on("end", onEnd);
    stream.on("close", onEnd);
    stream.on("error", onEnd);
  }

  function watchEvents(): void {
    // Ask from the second of subscribing, so events before the stream connects are not lost.
    lastEventSeconds ??= Math.floor(Date.now() / 1000);
    void connectEvents();
  }

  function disconnectEvents(): void {
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    lastEventSeconds = undefined;
    const stream = events;
    events = null;
    if (stream) (stream as unknown as { destroy(): void }).destroy();
  }

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

    async list() {
      const containers = await managedContainers(...panelFilters);
      const infos = await Promise.all(containers.map((c) => inspectManaged(c.Id)));
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
      statsCache.delete(ref);
      if (!info) return;
      statsCache.delete(info.Id);
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
      await call(`restart container ${info.Name.replace(/^\//, "")}`, () =>
        container.restart({ t: Math.ceil(restartGraceMs / 1000) }),
      );
      return toReplica(await call(`inspect container ${info.Id}`, () => container.inspect()));
    },

    async inspect(ref: string) {
      const info = await find(ref);
      if (!info) return null;
      return toReplica(info, info.State.Running ? undefined : await logTail(info.Id, 20));
    },

    /** Returns at once: cgroup files when visible, else the last cached API value (refreshed in the background). */
    async stats(ref: string): Promise<ReplicaStats | null> {
      let entry = statsCache.get(ref);
      if (entry?.cgroup) {
        const sample = await readCgroupSample(entry.cgroup);
        if (sample) return recordSample(entry, sample, Date.now(), entry.last?.memoryLimitBytes ?? null);
        // The files are gone: stopped (or restarted, with new files). Forget the old figures and look again.
        entry.cgroup = null;
        entry.last = null;
        entry.prevCpu = null;
      }
      if (!entry) {
        entry = { id: ref, cgroup: null, prevCpu: null, last: null, refreshedAt: 0, refreshing: null };
        statsCache.set(ref, entry);
      }
      if (Date.now() - entry.refreshedAt >= statsRefreshMs || !entry.last) {
        const refreshing = kickRefresh(ref, entry);
        // The first look at a container may wait a moment (an inspect and a file read, or a one-shot call).
        if (!entry.last) await Promise.race([refreshing, sleep(300)]);
      }
      return statsCache.get(ref)?.last ?? null;
    },

    /** The last `lines` lines of the container's output; stderr lines start with "stderr: ". */
    async logs(ref: string, lines: number) {
      if (lines <= 0) return [];
      const info = await find(ref);
      return info ? logTail(info.Id, lines) : [];
    },

    /** "started", "died" (exit code; every stop, like Docker's die) and "oom", from Docker's event stream. */
    onEvent: hub.on,
  } satisfies Runtime;

  return runtime;
}

export type DockerRuntime = ReturnType<typeof createDockerRuntime>;
