/**
 * The balancer of a Swarm service (experimental): HAProxy as a one-task Swarm service on
 * the service's attachable overlay, pinned to a manager, its listener published in host
 * mode on that node (no ingress mesh: it needs IPVS, which this kernel lacks).
 *
 * HAProxy follows the tasks itself: `server-template` slots filled from Docker's DNS
 * (`tasks.<swarm service>`, dnsrr), re-resolved every second, with active /health checks,
 * retries and redispatch. The config goes in as a Swarm config (no file shared with the
 * node), named by its content hash, so a changed config is a new config and a rolling update.
 */
import { createHash } from "node:crypto";
import type Docker from "dockerode";
import { AppError } from "@/lib/core/errors";
import { LABEL_MANAGED } from "./types";

export const LABEL_BALANCER_OF = "switchyard.balancer-of";

export type SwarmBalancerSpec = {
  serviceId: string;
  /** the Swarm service it balances (sy-<name>) */
  target: string;
  dataPort: number;
  /** how many servers HAProxy keeps ready for tasks (the most replicas it can follow) */
  slots: number;
  /** port published on the manager node, and the port HAProxy listens on inside its container */
  publishPort: number;
  /** an image whose entrypoint is haproxy (scripts/swarm-bed.sh haproxy-image builds one) */
  image: string;
  network: string;
  /**
   * The management path: a second listener (published like the first) that forwards a
   * request to the task named by its X-Switchyard-Task header (an address inside `subnet`,
   * the overlay's) at the replicas' admin port, whether or not the balancer has the task in
   * rotation. The replicas' admin API still wants its bearer token.
   */
  admin?: { publishPort: number; adminPort: number; subnet: string };
};

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** An IPv4 network in CIDR form (validated by value, not by pattern matching). */
function isCidr4(s: string): boolean {
  const [ip, len, ...rest] = s.split("/");
  if (rest.length || len === undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32) return false;
  const parts = ip.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function checkPort(name: string, v: number) {
  if (!Number.isInteger(v) || v < 1024 || v > 65535) throw new AppError("bad_request", `${name} must be a port from 1024 to 65535`);
}

/** The HAProxy config: every value is checked (they are rendered into the file). */
export function renderSwarmHaproxy(spec: Pick<SwarmBalancerSpec, "target" | "dataPort" | "slots" | "publishPort" | "admin">): string {
  if (!NAME.test(spec.target)) throw new AppError("bad_request", `Swarm service name ${JSON.stringify(spec.target)} is not usable in a balancer config`);
  checkPort("dataPort", spec.dataPort);
  checkPort("publishPort", spec.publishPort);
  if (spec.admin) {
    checkPort("admin.publishPort", spec.admin.publishPort);
    checkPort("admin.adminPort", spec.admin.adminPort);
    if (spec.admin.publishPort === spec.publishPort) throw new AppError("bad_request", "admin.publishPort must differ from publishPort");
    if (!isCidr4(spec.admin.subnet)) throw new AppError("bad_request", `admin.subnet ${JSON.stringify(spec.admin.subnet)} is not an IPv4 network like 10.0.1.0/24`);
  }
  const admin = spec.admin
    ? [
        "frontend admin",
        `  bind :${spec.admin.publishPort}`,
        `  acl to_task req.hdr_ip(x-switchyard-task) ${spec.admin.subnet}`,
        "  http-request deny deny_status 400 unless to_task",
        "  http-request set-dst req.hdr_ip(x-switchyard-task)",
        `  http-request set-dst-port int(${spec.admin.adminPort})`,
        "  default_backend admin",
        "backend admin",
        "  server task 0.0.0.0:0",
      ]
    : [];
  if (!Number.isInteger(spec.slots) || spec.slots < 1 || spec.slots > 100) throw new AppError("bad_request", "slots must be 1..100");
  return [
    "global",
    "  maxconn 4000",
    "resolvers docker",
    "  nameserver dns 127.0.0.11:53",
    "  resolve_retries 3",
    "  timeout resolve 1s",
    "  timeout retry 1s",
    "  hold valid 1s",
    "  hold other 1s",
    "  hold refused 1s",
    "  hold nx 1s",
    "  hold timeout 1s",
    "  hold obsolete 1s",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 15s",
    "  timeout server 15s",
    "  retries 3",
    "  option redispatch 1",
    "  retry-on all-retryable-errors",
    "  option idle-close-on-response",
    "frontend web",
    `  bind :${spec.publishPort}`,
    "  default_backend app",
    "backend app",
    "  balance roundrobin",
    "  option httpchk GET /health",
    `  server-template r ${spec.slots} tasks.${spec.target}:${spec.dataPort} check inter 500 fall 2 rise 2 resolvers docker init-addr none`,
    ...admin,
    "",
  ].join("\n");
}

/** Create (or leave as it is) the balancer service; returns its Swarm service name. */
export async function ensureSwarmBalancer(docker: Docker, spec: SwarmBalancerSpec): Promise<{ name: string; created: boolean }> {
  const cfg = renderSwarmHaproxy(spec);
  const name = `${spec.target}-lb`;
  const configName = `${name}-${createHash("sha256").update(cfg).digest("hex").slice(0, 12)}`;
  const labels = { [LABEL_MANAGED]: "true", [LABEL_BALANCER_OF]: spec.serviceId };
  const existing = await docker.listServices({ filters: { name: [name], label: [`${LABEL_BALANCER_OF}=${spec.serviceId}`] } });
  if (existing.some((s) => s.Spec?.Name === name)) return { name, created: false };

  const configs = await docker.listConfigs({ filters: { name: [configName] } });
  let configId = configs.find((c) => c.Spec?.Name === configName)?.ID;
  if (!configId) {
    const made = (await docker.createConfig({ Name: configName, Labels: labels, Data: Buffer.from(cfg).toString("base64") })) as unknown as { id?: string; ID?: string };
    configId = made.id ?? made.ID;
  }
  await docker.createService({
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Args: ["-f", "/etc/haproxy-swarm/haproxy.cfg"],
        Configs: [{ File: { Name: "/etc/haproxy-swarm/haproxy.cfg", UID: "0", GID: "0", Mode: 0o444 }, ConfigID: configId, ConfigName: configName }],
        Labels: labels,
      },
      Placement: { Constraints: ["node.role==manager"] },
      RestartPolicy: { Condition: "any", Delay: 1e9 },
      Networks: [{ Target: spec.network }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: {
      Mode: "dnsrr",
      Ports: [spec.publishPort, ...(spec.admin ? [spec.admin.publishPort] : [])].map((p) => ({ Protocol: "tcp", TargetPort: p, PublishedPort: p, PublishMode: "host" })),
    },
  } as unknown as Docker.CreateServiceOptions);
  return { name, created: true };
}

/** Remove the balancer service and its configs (nothing when there is none). */
export async function removeSwarmBalancer(docker: Docker, serviceId: string): Promise<void> {
  const label = [`${LABEL_BALANCER_OF}=${serviceId}`];
  for (const s of await docker.listServices({ filters: { label } })) {
    await docker.getService(s.ID).remove().catch(() => undefined);
  }
  // a config in use by a task being removed is refused for a moment: retry briefly
  for (let i = 0; i < 40; i++) {
    const left = await docker.listConfigs({ filters: { label } });
    if (left.length === 0) return;
    await Promise.all(left.map((c) => docker.getConfig(c.ID).remove().catch(() => undefined)));
    await new Promise((r) => setTimeout(r, 250));
  }
}
