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
import { LABEL_PANEL } from "./docker";
import { SWARM_BALANCER_CAPABILITIES } from "@/lib/engines/swarm/capabilities";
import { dynamicCookieKey, stickyCookieLines, tuningKeywords } from "@/lib/engines/haproxy/render";

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
  /** the panel's rules that apply to this balancer (default: the values below) */
  rules?: SwarmBalancerRules;
  /** the panel's id, as a label on the balancer and its configs (its orphan sweep removes only its own) */
  panelId?: string;
};

/** What of a service's rules (lib/core/rules.ts) the Swarm balancer carries out. */
export type SwarmBalancerRules = {
  algorithm: "round_robin" | "least_conn" | "random_two" | "source_hash" | "uri_hash";
  healthPath: string;
  healthIntervalMs: number;
  rise: number;
  fall: number;
  connectMs: number;
  serverMs: number;
  clientMs: number;
  retries: number;
  redispatch: boolean;
  /** cookie stickiness (HAProxy's dynamic cookie: a keyed hash of the task's address); null: none */
  sticky?: { cookieName: string; maxAgeS: number; key: string } | null;
  /** a task (re)entering rotation ramps its weight up over this long; 0: off */
  slowStartMs?: number;
  /** this many consecutive errors mark a task down until its active check passes again; 0: off */
  passiveMaxFails?: number;
};

export const DEFAULT_SWARM_BALANCER_RULES: SwarmBalancerRules = {
  algorithm: "round_robin",
  healthPath: "/health",
  healthIntervalMs: 500,
  rise: 2,
  fall: 2,
  connectMs: 2000,
  serverMs: 15_000,
  clientMs: 15_000,
  retries: 3,
  redispatch: true,
};

/**
 * The panel's rules as the Swarm balancer carries them out. `cookie`: the service id and the
 * panel's cookie secret, for the dynamic cookie's key (dynamicCookieKey, as the panel's HAProxy).
 */
export function swarmRulesOf(
  r: {
    algorithm: SwarmBalancerRules["algorithm"];
    healthCheck: { path: string; intervalMs: number; rise: number; fall: number };
    timeouts: { connectMs: number; serverMs: number; clientMs: number };
    retries: { count: number; redispatch: boolean };
    sticky?: { mode: string; cookieName: string; maxAgeS: number };
    slowStartMs?: number;
    passive?: { maxFails: number };
  },
  cookie?: { serviceId: string; secret: string },
): SwarmBalancerRules {
  const sticky = r.sticky?.mode === "cookie" && cookie ? { cookieName: r.sticky.cookieName, maxAgeS: r.sticky.maxAgeS, key: dynamicCookieKey(cookie.serviceId, cookie.secret) } : null;
  if (r.sticky?.mode === "cookie" && !cookie) throw new AppError("bad_request", "cookie stickiness on the Swarm balancer needs the panel's cookie secret");
  return {
    sticky,
    slowStartMs: r.slowStartMs ?? 0,
    passiveMaxFails: r.passive?.maxFails ?? 0,
    algorithm: r.algorithm,
    healthPath: r.healthCheck.path,
    healthIntervalMs: r.healthCheck.intervalMs,
    rise: r.healthCheck.rise,
    fall: r.healthCheck.fall,
    connectMs: r.timeouts.connectMs,
    serverMs: r.timeouts.serverMs,
    clientMs: r.timeouts.clientMs,
    retries: r.retries.count,
    redispatch: r.retries.redispatch,
  };
}

const BALANCE: Record<SwarmBalancerRules["algorithm"], string> = {
  round_robin: "roundrobin",
  least_conn: "leastconn",
  random_two: "random(2)",
  source_hash: "source",
  uri_hash: "uri",
};

/** A health path as the rules schema allows it: '/', then segments of [A-Za-z0-9_~.-] (no space, quote or '#'). */
function isHealthPath(p: string): boolean {
  if (!p.startsWith("/") || p.length > 200) return false;
  for (const ch of p) if (!/[A-Za-z0-9_~./-]/.test(ch)) return false;
  return true;
}

function checkRules(r: SwarmBalancerRules): void {
  if (!(r.algorithm in BALANCE)) throw new AppError("bad_request", `algorithm ${JSON.stringify(r.algorithm)} is not one the Swarm balancer knows`);
  if (!isHealthPath(r.healthPath)) throw new AppError("bad_request", `health path ${JSON.stringify(r.healthPath)} is not a plain URL path`);
  const ints: [string, number, number, number][] = [
    ["healthIntervalMs", r.healthIntervalMs, 100, 60_000],
    ["rise", r.rise, 1, 20],
    ["fall", r.fall, 1, 20],
    ["connectMs", r.connectMs, 100, 60_000],
    ["serverMs", r.serverMs, 100, 3_600_000],
    ["clientMs", r.clientMs, 100, 3_600_000],
    ["retries", r.retries, 0, 10],
  ];
  for (const [name, v, min, max] of ints) if (!Number.isInteger(v) || v < min || v > max) throw new AppError("bad_request", `${name} must be a whole number from ${min} to ${max}`);
  if (r.algorithm === "source_hash") throw new AppError("conflict", `algorithm source_hash: ${SWARM_BALANCER_CAPABILITIES["algorithm.source_hash"] as string}`);
}

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
export function renderSwarmHaproxy(spec: Pick<SwarmBalancerSpec, "target" | "dataPort" | "slots" | "publishPort" | "admin" | "rules">): string {
  const rules = spec.rules ?? DEFAULT_SWARM_BALANCER_RULES;
  checkRules(rules);
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
        // without a task: HAProxy's own per-server figures (CSV), which the panel maps onto the tasks
        "  acl to_stats path_beg /balancer-stats",
        "  http-request deny deny_status 400 unless to_task || to_stats",
        "  http-request set-dst req.hdr_ip(x-switchyard-task)",
        `  http-request set-dst-port int(${spec.admin.adminPort})`,
        "  use_backend stats if to_stats !to_task",
        "  default_backend admin",
        "backend admin",
        "  server task 0.0.0.0:0",
        "backend stats",
        "  stats enable",
        "  stats uri /balancer-stats",
        "  stats show-legends",
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
    `  timeout connect ${rules.connectMs}ms`,
    `  timeout client ${rules.clientMs}ms`,
    `  timeout server ${rules.serverMs}ms`,
    `  retries ${rules.retries}`,
    ...(rules.redispatch ? ["  option redispatch 1"] : []),
    "  retry-on all-retryable-errors",
    "  option idle-close-on-response",
    "frontend web",
    `  bind :${spec.publishPort}`,
    "  default_backend app",
    "backend app",
    `  balance ${BALANCE[rules.algorithm]}`,
    `  option httpchk GET ${rules.healthPath}`,
    // the same validators and lines as the panel's own HAProxy (lib/engines/haproxy/render.ts)
    ...(rules.sticky ? stickyCookieLines(rules.sticky.cookieName, rules.sticky.maxAgeS, rules.sticky.key).map((l) => `  ${l}`) : []),
    [
      `  server-template r ${spec.slots} tasks.${spec.target}:${spec.dataPort} check inter ${rules.healthIntervalMs} fall ${rules.fall} rise ${rules.rise}`,
      ...tuningKeywords(rules.slowStartMs ?? 0, rules.passiveMaxFails ?? 0),
      "resolvers docker init-addr none",
    ].join(" "),
    ...admin,
    "",
  ].join("\n");
}

/**
 * Create (or leave as it is) the balancer service; returns its Swarm service name. `known`: the
 * balancer service as the caller just listed it (null: there is none), so an unchanged balancer
 * costs no Engine API call; undefined: listed here.
 */
export async function ensureSwarmBalancer(docker: Docker, spec: SwarmBalancerSpec, known?: { ID: string; Version?: { Index?: number }; Spec?: unknown } | null): Promise<{ name: string; created: boolean; updated: boolean }> {
  const cfg = renderSwarmHaproxy(spec);
  const name = `${spec.target}-lb`;
  const configName = `${name}-${createHash("sha256").update(cfg).digest("hex").slice(0, 12)}`;
  const labels: Record<string, string> = { [LABEL_MANAGED]: "true", [LABEL_BALANCER_OF]: spec.serviceId, ...(spec.panelId ? { [LABEL_PANEL]: spec.panelId } : {}) };
  const existing =
    known === undefined ? (await docker.listServices({ filters: { name: [name], label: [`${LABEL_BALANCER_OF}=${spec.serviceId}`] } })).find((s) => s.Spec?.Name === name) : (known ?? undefined);
  if (existing) {
    const spec0 = existing.Spec as unknown as { TaskTemplate: { ContainerSpec: { Configs?: { ConfigName?: string }[] } } };
    if (spec0.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName === configName) return { name, created: false, updated: false };
  }
  const configs = await docker.listConfigs({ filters: { name: [configName] } });
  const configIdOf = async () => {
    const found = configs.find((c) => c.Spec?.Name === configName)?.ID;
    if (found) return found;
    const made = (await docker.createConfig({ Name: configName, Labels: labels, Data: Buffer.from(cfg).toString("base64") })) as unknown as { id?: string; ID?: string };
    return made.id ?? made.ID;
  };
  if (existing) {
    // the rules changed: the same service with the new config (a rolling update of its one task), labelled as this panel's
    const next = structuredClone(existing.Spec) as unknown as { Labels?: Record<string, string>; TaskTemplate: { ContainerSpec: { Configs: unknown[] } } };
    next.Labels = { ...next.Labels, ...labels };
    next.TaskTemplate.ContainerSpec.Configs = [{ File: { Name: "/etc/haproxy-swarm/haproxy.cfg", UID: "0", GID: "0", Mode: 0o444 }, ConfigID: await configIdOf(), ConfigName: configName }];
    await docker.getService(existing.ID).update({ _query: { version: existing.Version?.Index }, _body: next });
    return { name, created: false, updated: true };
  }
  const configId = await configIdOf();
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
  return { name, created: true, updated: false };
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
