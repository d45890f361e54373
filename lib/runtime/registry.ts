import path from "node:path";
import { env } from "@/lib/env";
import { remember } from "@/lib/remember";
import { panelId } from "@/lib/panel-id";
import type { InstanceSource } from "@/lib/core/service";
import type { Runtime, RuntimeKind } from "@/lib/runtime/types";
import { createProcessRuntime } from "@/lib/runtime/process";
import { createDockerRuntime } from "@/lib/runtime/docker";
import { createExternalRuntime } from "@/lib/runtime/external";
import { createSwarmRuntime, swarmCluster } from "@/lib/runtime/swarm";
import { createKubernetesRuntime, kubernetesCluster, type KubernetesRuntime } from "@/lib/runtime/kubernetes";
import type { ClusterBalancer, ClusterKind, ClusterRuntime } from "@/lib/runtime/cluster";
import { kubernetesConfig } from "@/lib/runtime/kubernetes-api";
import { AppError } from "@/lib/core/errors";
import type { Rules } from "@/lib/core/rules";
import { swarmRulesOf } from "@/lib/runtime/swarm-balancer";
import { cookieSecret } from "@/lib/cookie-secret";
import { createDockerDiscovery, type DockerDiscovery } from "@/lib/runtime/docker-discovery";
import type { DockerEndpoint } from "@/lib/runtime/docker-connection";

/** The replica app that the demo service (and any service without a command) runs. */
export function replicaAppPath(): string {
  return path.resolve(process.cwd(), "replica", "server.js");
}

function dockerEndpoint(): DockerEndpoint {
  const host = env().DOCKER_HOST;
  return host && host.startsWith("unix://") ? { socketPath: host.slice("unix://".length) } : host ? { dockerHost: host } : {};
}

/** One runtime adapter per kind per process. */
export function runtimeFor(kind: RuntimeKind): Runtime {
  const cfg = env();
  if (kind === "process") {
    return remember("runtime-process", () =>
      createProcessRuntime({ dataDir: cfg.dataDir, portRange: cfg.PORT_RANGE, defaultCommand: [process.execPath, replicaAppPath()], user: cfg.REPLICA_USER }),
    );
  }
  // stateless: lists nothing, refuses lifecycle (a service's own endpoints: runtimeOfService)
  if (kind === "external") return remember("runtime-external", () => createExternalRuntime());
  // experimental: a Swarm manager's Engine API (unix:///path or tcp://host:port), SWARM_MANAGER
  if (kind === "swarm") return remember("runtime-swarm", () => swarmRuntime());
  // experimental: a Kubernetes API server, KUBERNETES_API (refused, saying what to set, while unset)
  if (kind === "kubernetes") return kubernetesClusterRuntime().kubernetes;
  return remember("runtime-docker", () =>
    createDockerRuntime({
      ...dockerEndpoint(),
      network: cfg.DOCKER_NETWORK,
      portRange: cfg.PORT_RANGE,
      defaultImage: cfg.REPLICA_IMAGE,
      panelId: panelId(cfg.dataDir),
    }),
  );
}

/** The Swarm runtime (experimental), one per process: SWARM_MANAGER, SWARM_NETWORK (default switchyard-swarm). */
export function swarmRuntime() {
  return remember("runtime-swarm-adapter", () => {
    const { SWARM_MANAGER: manager, SWARM_NETWORK: network } = env();
    if (!manager) throw new AppError("unsupported", "the swarm runtime needs SWARM_MANAGER (a Swarm manager's Engine API: unix:///path/docker.sock or tcp://host:port)");
    return createSwarmRuntime({
      ...(manager.startsWith("unix://") ? { socketPath: manager.slice("unix://".length) } : { dockerHost: manager }),
      network,
      defaultImage: env().REPLICA_IMAGE,
      panelId: panelId(env().dataDir),
    });
  });
}

/**
 * The Kubernetes runtime (experimental) through the service-level port, one per process:
 * KUBERNETES_API with KUBERNETES_TOKEN or KUBERNETES_TOKEN_FILE (and KUBERNETES_CA_FILE,
 * KUBERNETES_NAMESPACE), every field checked (kubernetesConfig). Refused, saying what to set,
 * while KUBERNETES_API is unset; a bad value is refused naming it (nothing is remembered then).
 */
export function kubernetesClusterRuntime(): ClusterRuntime & { kubernetes: KubernetesRuntime } {
  return remember("cluster-kubernetes", () => {
    const cfg = env();
    const config = kubernetesConfig({
      KUBERNETES_API: cfg.KUBERNETES_API,
      KUBERNETES_TOKEN: cfg.KUBERNETES_TOKEN,
      KUBERNETES_TOKEN_FILE: cfg.KUBERNETES_TOKEN_FILE,
      KUBERNETES_CA_FILE: cfg.KUBERNETES_CA_FILE,
      KUBERNETES_NAMESPACE: cfg.KUBERNETES_NAMESPACE,
    });
    if (!config) throw new AppError("unsupported", "runtime kubernetes is not configured: set KUBERNETES_API and KUBERNETES_TOKEN or KUBERNETES_TOKEN_FILE (README, Kubernetes (experimental))");
    return kubernetesCluster(createKubernetesRuntime({ config, defaultImage: cfg.REPLICA_IMAGE, panelId: panelId(cfg.dataDir), progressDeadlineSeconds: cfg.KUBERNETES_PROGRESS_DEADLINE_SECONDS }));
  });
}

/**
 * The balancer of a Swarm service (swarm-balancer.ts): SWARM_BALANCER_IMAGE, two ports from
 * SWARM_BALANCER_PORTS (traffic, management listener) that no other of the panel's balancers holds.
 */
export function swarmBalancer(): ClusterBalancer {
  return remember("cluster-swarm-balancer", () => ({
    async ensure(serviceId: string, rules: Rules) {
      const rt = swarmRuntime();
      const { SWARM_BALANCER_IMAGE: image, SWARM_BALANCER_PORTS: range } = env();
      const have = await rt.balancerOf(serviceId);
      let ports = have && have.adminPort ? { data: have.dataPort, admin: have.adminPort } : null;
      if (!ports) {
        const used = await rt.balancerPortsInUse();
        for (let p = range.from; p + 1 <= range.to && !ports; p += 2) if (!used.has(p) && !used.has(p + 1)) ports = { data: p, admin: p + 1 };
        if (!ports) throw new AppError("unavailable", `no two free ports left in SWARM_BALANCER_PORTS (${range.from}-${range.to}) for another Swarm balancer`);
      }
      const made = await rt.ensureBalancer(serviceId, { image, publishPort: ports.data, adminPublishPort: ports.admin, rules: swarmRulesOf(rules, { serviceId, secret: cookieSecret(env().dataDir) }) });
      const now = made.created || made.updated ? await rt.balancerOf(serviceId) : have;
      return { host: now?.host ?? null, dataPort: ports.data, adminPort: ports.admin, created: made.created, updated: made.updated };
    },
  }));
}

/** The service-level runtime of a cluster kind (cluster.ts), one per process. */
export function clusterFor(kind: ClusterKind): ClusterRuntime {
  if (kind === "swarm") return remember("cluster-swarm", () => swarmCluster(swarmRuntime()));
  if (kind === "kubernetes") return kubernetesClusterRuntime();
  throw new AppError("unsupported", `no ${kind} adapter in this panel`);
}

/** Docker discovery, one per process (its event stream opens when a service first discovers). */
export function dockerDiscovery(): DockerDiscovery {
  return remember("runtime-docker-discovery", () => createDockerDiscovery({ ...dockerEndpoint(), network: env().DOCKER_NETWORK }));
}

/**
 * The runtime a service's instances are in: its own endpoints (external), the containers
 * it discovers (docker with `discover`), else its runtime kind's adapter.
 */
export function runtimeOfService(svc: { id: string; name: string; runtime: RuntimeKind; source?: InstanceSource | null }): Runtime {
  const source = svc.source;
  if (source?.kind === "external") return createExternalRuntime({ serviceId: svc.id, serviceName: svc.name, endpoints: source.endpoints });
  if (source?.kind === "discover") return dockerDiscovery().forService({ serviceId: svc.id, serviceName: svc.name, discover: source.discover, dataPort: source.dataPort });
  return runtimeFor(svc.runtime);
}

/** Containers started or gone (docker discovery): `listener` reconciles. Builds nothing until discovery is in use. */
export function onDiscoveredChange(listener: () => void): () => void {
  return dockerDiscovery().onChange(listener);
}
