import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkedLabels, deploymentRollout, parseQuantity, podUsage, isDnsLabel, previousRevision, isLabelValue, isPodName, kubeObjectName, memberIdOf, replicasFromSlices, type EndpointSlice, type Pod } from "@/lib/core/kubernetes";
import { kubernetesConfig } from "@/lib/runtime/kubernetes-api";

const ports = [
  { name: "http", port: 8080, protocol: "TCP" },
  { name: "admin", port: 9090, protocol: "TCP" },
];

function pod(name: string, over: Partial<Pod["status"]> & { deleting?: boolean; node?: string } = {}): Pod {
  const { deleting, node, ...status } = over;
  return {
    metadata: { name, uid: `uid-${name}`, labels: {}, ...(deleting ? { deletionTimestamp: "2026-11-29T09:00:00Z" } : {}) },
    spec: { nodeName: node ?? "node-a" },
    status: { phase: "Running", podIP: "10.0.0.1", containerStatuses: [{ name: "replica", ready: true, restartCount: 0, state: { running: { startedAt: "2026-11-29T08:00:00Z" } } }], ...status },
  };
}

function ep(name: string, address: string, conditions: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null } | undefined, nodeName = "node-a") {
  return { addresses: [address], conditions, nodeName, targetRef: { kind: "Pod", name, namespace: "default" } };
}

describe("replicas from EndpointSlices joined with pods", () => {
  it("maps ready, not ready and terminating endpoints (serving tells whether a draining one still answers)", () => {
    const slices: EndpointSlice[] = [
      {
        metadata: { name: "sy-web-abcde" },
        addressType: "IPv4",
        ports,
        endpoints: [
          ep("web-1", "10.0.0.1", { ready: true, serving: true, terminating: false }),
          ep("web-2", "10.0.0.2", { ready: false, serving: false, terminating: false }, "node-b"),
          ep("web-3", "10.0.0.3", { ready: false, serving: true, terminating: true }),
          ep("web-4", "10.0.0.4", { ready: false, serving: false, terminating: true }),
        ],
      },
    ];
    const pods = [
      pod("web-1"),
      pod("web-2", { node: "node-b", containerStatuses: [{ name: "replica", ready: false, restartCount: 2, lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } } }] }),
      pod("web-3", { deleting: true }),
      pod("web-4", { deleting: true }),
    ];
    const r = replicasFromSlices(slices, pods, { data: "http", admin: "admin" });
    expect(r.map((x) => [x.pod, x.state, x.ready, x.serving, x.terminating])).toEqual([
      ["web-1", "ready", true, true, false],
      ["web-2", "starting", false, false, false],
      ["web-3", "draining", false, true, true],
      ["web-4", "draining", false, false, true],
    ]);
    expect(r[0]).toMatchObject({ address: "10.0.0.1", dataPort: 8080, adminPort: 9090, node: "node-a", phase: "Running", restarts: 0, lastExit: null });
    expect(r[1]).toMatchObject({ node: "node-b", restarts: 2, lastExit: "OOMKilled (exit code 137)" });
    expect(r[0].startedAt?.toISOString()).toBe("2026-11-29T08:00:00.000Z");
  });

  it("reads nil conditions as the API says (ready nil = true, serving nil = ready, terminating nil = false)", () => {
    const slices: EndpointSlice[] = [{ metadata: { name: "s" }, ports, endpoints: [ep("a", "10.0.0.9", undefined), ep("b", "10.0.0.8", { ready: null, terminating: true })] }];
    const r = replicasFromSlices(slices, [pod("a"), pod("b")], { data: "http", admin: "admin" });
    expect(r.map((x) => [x.pod, x.state, x.serving])).toEqual([
      ["a", "ready", true],
      ["b", "draining", false],
    ]);
  });

  it("counts a pod listed in two slices once (the ready entry wins), lists pods without an endpoint as pending, skips endpoints without a pod name", () => {
    const slices: EndpointSlice[] = [
      { metadata: { name: "s1" }, ports, endpoints: [ep("a", "10.0.0.1", { ready: false, serving: false })] },
      { metadata: { name: "s2" }, ports, endpoints: [ep("a", "10.0.0.1", { ready: true }), { addresses: ["10.0.0.7"], conditions: { ready: true } }] },
      { metadata: { name: "fqdn" }, addressType: "FQDN", ports, endpoints: [ep("z", "example.org", { ready: true })] },
    ];
    const r = replicasFromSlices(slices, [pod("a"), pod("new", { phase: "Pending", podIP: undefined, containerStatuses: [] })], { data: "http", admin: "admin" });
    expect(r.map((x) => [x.pod, x.state, x.address])).toEqual([
      ["a", "ready", "10.0.0.1"],
      ["new", "pending", null],
    ]);
    expect(r[1].phase).toBe("Pending");
  });

  it("a slice without the named port gives no port (not a guess)", () => {
    const r = replicasFromSlices([{ metadata: { name: "s" }, ports: [{ name: "other", port: 1 }], endpoints: [ep("a", "10.0.0.1", { ready: true })] }], [], { data: "http", admin: "admin" });
    expect(r[0]).toMatchObject({ dataPort: null, adminPort: null, phase: "Unknown" });
  });
});

describe("names and labels are checked before any request", () => {
  it("accepts DNS labels and label values, refuses the rest", () => {
    expect(isDnsLabel("web-1")).toBe(true);
    for (const bad of ["", "-web", "web-", "Web", "a_b", "a.b", "x".repeat(64), "a\nb"]) expect(isDnsLabel(bad)).toBe(false);
    expect(isLabelValue("")).toBe(true);
    expect(isLabelValue("cmk1x.Y_z-9")).toBe(true);
    for (const bad of ["-a", "a-", "a b", "a/b", "x".repeat(64), "a\u0000"]) expect(isLabelValue(bad)).toBe(false);
    expect(isPodName("sy-web-5cd7155026-b8099")).toBe(true);
    for (const bad of ["..", "a..b", ".a", "a.", "a/b", "A", ""]) expect(isPodName(bad)).toBe(false);
    expect(kubeObjectName("web")).toBe("sy-web");
    for (const bad of ["../etc", "web;rm", "WEB", "a".repeat(48)]) expect(() => kubeObjectName(bad)).toThrow(/cannot name a Kubernetes Deployment/);
    expect(() => checkedLabels({ "switchyard.service": "a b" })).toThrow(/not a Kubernetes label value/);
    expect(() => checkedLabels({ "evil.io/x": "a" })).toThrow(/not one of the panel's/);
  });
});

describe("member ids", () => {
  it("are [a-z0-9], at most 40, the same for a pod name and different for another", () => {
    const a = memberIdOf("sy-kweb-5cd7155026-b8099");
    expect(a).toMatch(/^kb8099[0-9a-f]{12}$/);
    expect(memberIdOf("sy-kweb-5cd7155026-b8099")).toBe(a);
    expect(memberIdOf("sy-kweb-5cd7155026-x7k2p")).not.toBe(a);
    expect(memberIdOf("a".repeat(253))).toMatch(/^k[a-z0-9]{1,39}$/);
  });
});

describe("kubernetesConfig", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sy-kcfg-"));
  const tokenFile = path.join(dir, "token");
  writeFileSync(tokenFile, "abc.def-ghi\n");
  const caFile = path.join(dir, "ca.crt");
  writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

  it("is null without KUBERNETES_API and reads every field when set", () => {
    expect(kubernetesConfig({})).toBeNull();
    const c = kubernetesConfig({ KUBERNETES_API: "https://10.1.2.3:6443", KUBERNETES_TOKEN_FILE: tokenFile, KUBERNETES_CA_FILE: caFile, KUBERNETES_NAMESPACE: "apps" });
    expect(c).toMatchObject({ token: "abc.def-ghi", namespace: "apps" });
    expect(c?.api.origin).toBe("https://10.1.2.3:6443");
    expect(c?.ca).toContain("BEGIN CERTIFICATE");
    expect(kubernetesConfig({ KUBERNETES_API: "http://127.0.0.1:16000", KUBERNETES_TOKEN: "t" })?.namespace).toBe("default");
  });

  it("refuses each bad field, saying which", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ KUBERNETES_API: "http://10.0.0.1:8080", KUBERNETES_TOKEN: "t" }, /plain http is refused/],
      [{ KUBERNETES_API: "ftp://127.0.0.1", KUBERNETES_TOKEN: "t" }, /use https/],
      [{ KUBERNETES_API: "not a url", KUBERNETES_TOKEN: "t" }, /not a URL/],
      [{ KUBERNETES_API: "https://u:p@k8s:6443", KUBERNETES_TOKEN: "t" }, /no user or password/],
      [{ KUBERNETES_API: "https://k8s:6443/x?y", KUBERNETES_TOKEN: "t" }, /only scheme, host and port/],
      [{ KUBERNETES_API: "https://k8s:6443" }, /no token/],
      [{ KUBERNETES_API: "https://k8s:6443", KUBERNETES_TOKEN: "t", KUBERNETES_TOKEN_FILE: tokenFile }, /not both/],
      [{ KUBERNETES_API: "https://k8s:6443", KUBERNETES_TOKEN: "a b\r\nX-Evil: 1" }, /not a bearer token/],
      [{ KUBERNETES_API: "https://k8s:6443", KUBERNETES_TOKEN_FILE: path.join(dir, "missing") }, /KUBERNETES_TOKEN_FILE/],
      [{ KUBERNETES_API: "https://k8s:6443", KUBERNETES_TOKEN: "t", KUBERNETES_CA_FILE: tokenFile }, /no PEM certificate/],
      [{ KUBERNETES_API: "https://k8s:6443", KUBERNETES_TOKEN: "t", KUBERNETES_NAMESPACE: "../kube-system" }, /not a namespace name/],
    ];
    for (const [vars, why] of cases) expect(() => kubernetesConfig(vars), JSON.stringify(vars)).toThrow(why);
  });
});

describe("a Deployment's rollout from its status (kubectl rollout status)", () => {
  const dep = (over: { generation?: number; revision?: string; replicas?: number; status?: Record<string, unknown> }) => ({
    metadata: { generation: over.generation ?? 2, annotations: (over.revision ? { "deployment.kubernetes.io/revision": over.revision } : {}) as Record<string, string> },
    spec: { replicas: over.replicas ?? 3 },
    status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, conditions: [{ type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: 'ReplicaSet "a" has successfully progressed.' }], ...over.status },
  });

  it("done only when every desired pod is updated and available and no old pod is left", () => {
    expect(deploymentRollout(dep({ revision: "2" }))).toMatchObject({ outcome: "done", revision: 2, updated: 3, available: 3 });
    expect(deploymentRollout(dep({ status: { replicas: 4, updatedReplicas: 3 } }))).toMatchObject({ outcome: "updating", message: "3 of 3 updated, 3 available, 1 old" });
    expect(deploymentRollout(dep({ status: { updatedReplicas: 1, availableReplicas: 3, replicas: 4 } })).outcome).toBe("updating");
    expect(deploymentRollout(dep({ status: { availableReplicas: 2 } })).outcome).toBe("updating");
  });

  it("a generation the controller has not observed yet is still updating, whatever the counts say", () => {
    const r = deploymentRollout(dep({ generation: 3 }));
    expect(r).toMatchObject({ outcome: "updating", generation: 3, observedGeneration: 2 });
    expect(r.message).toMatch(/generation 3 to be observed/);
  });

  it("ProgressDeadlineExceeded is stalled, never done", () => {
    const r = deploymentRollout(dep({ status: { updatedReplicas: 1, replicas: 4, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: 'ReplicaSet "b" has timed out progressing.' }] } }));
    expect(r.outcome).toBe("stalled");
    expect(r.message).toBe('stalled: ReplicaSet "b" has timed out progressing. (1 of 3 updated, 3 available, 3 old)');
  });

  it("no status and no revision yet: updating, revision null", () => {
    expect(deploymentRollout({ metadata: { generation: 1 }, spec: { replicas: 2 } })).toMatchObject({ outcome: "updating", revision: null, updated: 0 });
  });

  it("rollback goes to the highest revision below the current one (kubectl's undo); none below: null", () => {
    const rs = (rev: string) => ({ metadata: { name: `rs-${rev}`, annotations: { "deployment.kubernetes.io/revision": rev } } });
    const sets = [rs("1"), rs("4"), rs("2"), rs("3")];
    expect(previousRevision(sets, 4)?.metadata.name).toBe("rs-3");
    expect(previousRevision(sets, 3)?.metadata.name).toBe("rs-2");
    expect(previousRevision(sets, 1)).toBeNull();
    expect(previousRevision(sets, null)).toBeNull();
    expect(previousRevision([{ metadata: { name: "x", annotations: {} } }, rs("2")], 2)).toBeNull();
  });
});

describe("pod metrics (metrics.k8s.io quantities)", () => {
  it("parses CPU and memory quantities as metrics-server writes them", () => {
    expect(parseQuantity("123456789n")).toBeCloseTo(0.123456789, 12);
    expect(parseQuantity("250m")).toBeCloseTo(0.25, 12);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity("1500u")).toBeCloseTo(0.0015, 12);
    expect(parseQuantity("34512Ki")).toBe(34512 * 1024);
    expect(parseQuantity("1.5Gi")).toBe(1.5 * 1024 ** 3);
    expect(parseQuantity("64Mi")).toBe(64 * 1024 ** 2);
    expect(parseQuantity("3M")).toBe(3e6);
    for (const bad of ["", "Ki", "1.2.3", "12Xi", "-5m", "1e3", "12 Mi", null, 5, "9".repeat(30)]) expect(parseQuantity(bad), String(bad)).toBeNull();
  });

  it("sums a pod's containers: CPU in percent of a core, memory in bytes; a missing figure is none, not zero", () => {
    const u = podUsage({ metadata: { name: "p" }, containers: [{ name: "a", usage: { cpu: "250m", memory: "1Mi" } }, { name: "b", usage: { cpu: "50000000n", memory: "1024Ki" } }] });
    expect(u?.cpuPercent).toBeCloseTo(30, 9);
    expect(u?.memoryBytes).toBe(2 * 1048576);
    expect(podUsage({ metadata: { name: "p" }, containers: [] })).toBeNull();
    expect(podUsage({ metadata: { name: "p" }, containers: [{ name: "a", usage: { cpu: "250m" } }] })).toBeNull();
    expect(podUsage({ metadata: { name: "p" } })).toBeNull();
  });
});
