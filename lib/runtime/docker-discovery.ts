/**
 * Docker discovery (issue 14, item 3): a docker service with `discover: {label}` or
 * `discover: {project, service}` starts no container; it adopts the running containers
 * whose labels match, the way Traefik's Docker provider finds them (its constraints on
 * labels, compose's com.docker.compose.project / .service), and follows them live from
 * Docker's event stream: a container that starts with the labels joins, one that stops
 * or goes leaves.
 *
 * The port is the service's dataPort, unless the container names its own with a label,
 * as Traefik reads it: `switchyard.port=N`, or Traefik's own
 * `traefik.http.services.<name>.loadbalancer.server.port=N` (several containers on the
 * host's network cannot share one port).
 * The address the balancer reaches a container at, in this order:
 *   - host networking: 127.0.0.1 and that port (the app listens on the host);
 *   - the dataPort published on the host: the published port on 127.0.0.1 (an address
 *     bound to all interfaces is reached on loopback; one bound to a single address, there);
 *   - on the panel's own Docker network (DOCKER_NETWORK, as the docker runtime's bridge
 *     mode): the container's name and the dataPort, resolved by Docker's DNS.
 * A container reachable none of these ways is not listed (the service page says how many
 * matched and why one is missing in its events).
 *
 * What the panel does to a discovered container: restart and stop, through the Engine
 * API. It NEVER removes one: remove() here only lets go of it, and containers without
 * switchyard.managed=true are never listed by the docker runtime, so neither deleting the
 * service nor the orphan sweep can reach them. Containers the panel created
 * (switchyard.managed=true) are never adopted.
 */
import Docker from "dockerode";
import { AppError } from "@/lib/core/errors";
import { discoverLabels, type Discover } from "@/lib/core/service";
import { connectionOptions, type DockerEndpoint } from "./docker-connection";
import { dockerErrors, statusOf } from "./docker-errors";
import { demuxDockerLog, formatLogLines } from "./docker-log";
import { createDockerStats } from "./docker-stats";
import { LABEL_MANAGED, type ReplicaStats, type Runtime, type RuntimeReplica, type RuntimeReplicaState } from "./types";

export type DockerDiscoveryOptions = DockerEndpoint & {
  /** the panel's Docker network ("host" or a bridge network's name): where a container's name resolves */
  network: string;
  /** grace given to restart(); default 5000 ms */
  restartGraceMs?: number;
};

export type DiscoveredService = { serviceId: string; serviceName: string; discover: Discover; dataPort: number };

const alnum = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/**
 * A stable, readable replica id for a discovered container: "d", its name's letters and
 * digits (at most 14), then the first 6 characters of its id. E.g. container
 * shop-api-1 (3fa9c2…) → dshopapi13fa9c2.
 */
export function discoveredReplicaId(containerName: string, containerId: string): string {
  return `d${alnum(containerName).slice(0, 14)}${containerId.slice(0, 6).toLowerCase()}`;
}

type Reachable = { host: string; port: number } | null;

export const LABEL_PORT = "switchyard.port";
const TRAEFIK_PORT = /^traefik\.http\.services\.[A-Za-z0-9_-]{1,63}\.loadbalancer\.server\.port$/;

/** The port a container names for itself (switchyard.port, else one Traefik server port label), or null. */
export function labelledPort(labels: Record<string, string> | undefined): number | null {
  const valid = (v: string | undefined) => (v !== undefined && /^[0-9]{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? Number(v) : null);
  const own = valid(labels?.[LABEL_PORT]);
  if (own) return own;
  const traefik = Object.keys(labels ?? {}).filter((k) => TRAEFIK_PORT.test(k));
  return traefik.length === 1 ? valid(labels?.[traefik[0]]) : null;
}

/** Where the balancer reaches the container's dataPort (see the header), or null. */
export function reachableAddress(
  c: { name: string; networkMode: string; networks: string[]; published: { privatePort: number; publicPort?: number; ip?: string; type: string }[] },
  dataPort: number,
  panelNetwork: string,
): Reachable {
  if (c.networkMode === "host") return { host: "127.0.0.1", port: dataPort };
  const pub = c.published.find((p) => p.type === "tcp" && p.privatePort === dataPort && p.publicPort && (!p.ip || /^[0-9.]+$/.test(p.ip)));
  if (pub?.publicPort) return { host: !pub.ip || pub.ip === "0.0.0.0" ? "127.0.0.1" : pub.ip, port: pub.publicPort };
  if (panelNetwork !== "host" && c.networks.includes(panelNetwork)) return { host: c.name, port: dataPort };
  return null;
}

function mapState(status: string): RuntimeReplicaState {
  return status === "running" ? "running" : status === "exited" || status === "dead" ? "exited" : status === "created" ? "created" : "unknown";
}

const matches = (labels: Record<string, string> | undefined, d: Discover): boolean =>
  labels?.[LABEL_MANAGED] !== "true" &&
  discoverLabels(d).every((l) => {
    const eq = l.indexOf("=");
    return eq < 0 ? labels?.[l] !== undefined : labels?.[l.slice(0, eq)] === l.slice(eq + 1);
  });

export function createDockerDiscovery(opts: DockerDiscoveryOptions) {
  const { options, where } = connectionOptions(opts);
  const docker = new Docker(options);
  const { wrap, call } = dockerErrors(where);
  const restartGraceMs = opts.restartGraceMs ?? 5000;

  async function inspectAny(ref: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await docker.getContainer(ref).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw wrap(e, `inspect container ${ref}`);
    }
  }
  // figures only: any container the panel was asked about by its id
  const statsCache = createDockerStats({ docker, find: inspectAny, statsFrom: "auto", refreshMs: 2000 });

  // ---------------------------------------------------------------- events
  const listeners = new Set<() => void>();
  let stream: NodeJS.ReadableStream | null = null;
  let connecting = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = 500;
  let wanted = false;

  function notify(): void {
    for (const l of listeners) l();
  }

  async function connect(): Promise<void> {
    if (stream || connecting || !wanted) return;
    connecting = true;
    try {
      const s = await docker.getEvents({ filters: { type: ["container"], event: ["start", "die", "destroy", "unpause", "pause"] } });
      stream = s;
      backoff = 500;
      s.on("data", () => notify());
      const ended = () => {
        if (stream !== s) return;
        stream = null;
        schedule();
      };
      s.on("end", ended);
      s.on("close", ended);
      s.on("error", ended);
      notify(); // anything that changed while there was no stream
    } catch {
      schedule();
    } finally {
      connecting = false;
    }
  }

  function schedule(): void {
    if (retryTimer || !wanted) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, backoff);
    retryTimer.unref();
    backoff = Math.min(backoff * 2, 30_000);
  }

  // ---------------------------------------------------------------- one service's containers
  function toReplica(svc: DiscoveredService, info: Docker.ContainerInspectInfo): RuntimeReplica | null {
    const name = info.Name.replace(/^\//, "");
    const published = Object.entries(info.NetworkSettings?.Ports ?? {}).flatMap(([key, binds]) => {
      const [port, type] = key.split("/");
      return (binds ?? []).map((b) => ({ privatePort: Number(port), publicPort: Number(b.HostPort) || undefined, ip: b.HostIp, type }));
    });
    const addr = reachableAddress(
      { name, networkMode: info.HostConfig?.NetworkMode ?? "", networks: Object.keys(info.NetworkSettings?.Networks ?? {}), published },
      labelledPort(info.Config.Labels) ?? svc.dataPort,
      opts.network,
    );
    if (!addr) return null;
    const state = mapState(info.State.Status);
    const started = Date.parse(info.State.StartedAt);
    return {
      replicaId: discoveredReplicaId(name, info.Id),
      serviceId: svc.serviceId,
      serviceName: svc.serviceName,
      runtimeRef: info.Id,
      dataAddr: addr,
      adminAddr: addr,
      state,
      startedAt: new Date(started > 0 ? started : Date.parse(info.Created)),
      exitCode: state === "running" ? null : info.State.ExitCode,
      oomKilled: Boolean(info.State.OOMKilled),
      reason: state === "running" ? null : `container ${name} is ${info.State.Status}`,
    };
  }

  function forService(svc: DiscoveredService) {
    if (!wanted) {
      wanted = true;
      void connect();
    }
    /** the container `ref`, if it is one this service discovers */
    async function mine(ref: string): Promise<Docker.ContainerInspectInfo | null> {
      const info = await inspectAny(ref);
      return info && matches(info.Config.Labels, svc.discover) ? info : null;
    }
    async function mustBeMine(ref: string): Promise<Docker.ContainerInspectInfo> {
      const info = await mine(ref);
      if (!info) throw new AppError("not_found", `no container ${ref} matching ${discoverLabels(svc.discover).join(", ")}`);
      return info;
    }
    return {
      kind: "docker" as const,
      available: async () => {
        try {
          await docker.ping();
          return { ok: true as const };
        } catch (e) {
          return { ok: false as const, reason: wrap(e, `ping the Docker engine at ${where}`).message };
        }
      },
      async list() {
        const found = await call("list containers", () => docker.listContainers({ filters: { label: discoverLabels(svc.discover), status: ["running"] } }));
        const infos = await Promise.all(found.filter((c) => matches(c.Labels, svc.discover)).map((c) => inspectAny(c.Id)));
        return infos.flatMap((i) => (i ? [toReplica(svc, i)].filter((r): r is RuntimeReplica => r !== null) : []));
      },
      create: async (): Promise<RuntimeReplica> => {
        throw new AppError("conflict", `service ${svc.serviceName} discovers its containers (${discoverLabels(svc.discover).join(", ")}); it starts none`);
      },
      async stop(ref: string, graceMs: number) {
        const info = await mustBeMine(ref);
        try {
          await docker.getContainer(info.Id).stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) });
        } catch (e) {
          if (statusOf(e) === 304 || statusOf(e) === 404) return;
          throw wrap(e, `stop container ${info.Name.replace(/^\//, "")}`);
        }
      },
      /** Lets go of the container. It is never removed: the panel did not create it. */
      async remove(ref: string) {
        statsCache.forget(ref);
      },
      async restart(ref: string) {
        const info = await mustBeMine(ref);
        const container = docker.getContainer(info.Id);
        await call(`restart container ${info.Name.replace(/^\//, "")}`, () => container.restart({ t: Math.ceil(restartGraceMs / 1000) }));
        const after = toReplica(svc, await call(`inspect container ${info.Id}`, () => container.inspect()));
        if (!after) throw new AppError("runtime_error", `container ${info.Name.replace(/^\//, "")} restarted but its port ${svc.dataPort} is no longer reachable`);
        return after;
      },
      async inspect(ref: string) {
        const info = await mine(ref);
        return info ? toReplica(svc, info) : null;
      },
      stats: (ref: string): Promise<ReplicaStats | null> => statsCache.stats(ref),
      async logs(ref: string, lines: number) {
        if (lines <= 0 || !(await mine(ref))) return [];
        const buf = await call(`read the logs of container ${ref}`, () => docker.getContainer(ref).logs({ stdout: true, stderr: true, tail: lines, follow: false }));
        return formatLogLines(demuxDockerLog(Buffer.isBuffer(buf) ? buf : Buffer.from(buf)));
      },
      // changes come through onChange (one stream for every discovering service)
      onEvent: () => () => undefined,
    } satisfies Runtime;
  }

  return {
    forService,
    /** Any container started, stopped, paused or removed: listeners reconcile the discovering services. */
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close(): void {
      wanted = false;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      const s = stream;
      stream = null;
      if (s) (s as unknown as { destroy(): void }).destroy();
    },
  };
}

export type DockerDiscovery = ReturnType<typeof createDockerDiscovery>;
