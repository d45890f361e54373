"use client";

import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { SwitchyardEvent } from "@/lib/events";
import type { ReplicaTick } from "@/lib/core/metrics";
import { isClusterRuntime } from "@/lib/core/service";
import { useServiceLive, type ServiceSnapshot } from "@/lib/client/live";
import { Card } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { TabPanel, Tabs } from "@/components/ui/tabs";
import { ConnectionBadge } from "@/components/shell/connection-badge";
import { EventList } from "@/components/events/event-list";
import { ReplicaCard } from "@/components/replicas/replica-card";
import { displayState, stateLook } from "@/components/replicas/replica-state";
import { ScaleControl } from "@/components/services/scale-control";
import { InstanceSource, lifecycleOf, sourceSummary } from "@/components/services/instance-source";
import { ReachCommand, type BalancerInfo } from "@/components/services/reach-command";
import { ClusterNodes } from "@/components/services/cluster-nodes";
import { TrafficPanel } from "@/components/traffic/traffic-panel";
import { useReplicaStyles } from "@/components/charts/replica-colors";
import { ShareBar } from "@/components/charts/share-bar";
import { ServiceCharts } from "@/components/charts/service-charts";
import { HOLD_OFF_SCREEN_FROM, HoldOffScreen } from "@/components/ui/hold-off-screen";
import { averageMeaning, replicaFigures } from "@/components/services/replica-figures";
import type { AutoscaleView } from "@/lib/core/autoscale";
import { AutoscaleCard } from "@/components/autoscale/autoscale-card";
import { useAutoscale } from "@/components/autoscale/use-autoscale";
import { RolloutCard } from "@/components/rollout/rollout-card";

/** A card redraws only when its own props change (a tick), not for a traffic or service push that is not about it. */
const MemoReplicaCard = memo(ReplicaCard);

/** The same array while its items stay the same, so memoised children keep their props. */
function useStableList(list: string[]): string[] {
  const ref = useRef(list);
  const prev = ref.current;
  const same = prev.length === list.length && prev.every((x, i) => x === list[i]);
  useEffect(() => {
    if (!same) ref.current = list;
  });
  return same ? prev : list;
}

function Kpi({ label, value, sub, tone, testId }: { label: string; value: ReactNode; sub?: ReactNode; tone?: "red" | "green"; testId?: string }) {
  return (
    <div className="rounded-lg border border-zinc-200 bg-white px-3 py-2 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
      <div className="text-xs text-zinc-500">{label}</div>
      <div data-testid={testId} className={`text-xl font-semibold tabular-nums ${tone === "red" ? "text-rose-600 dark:text-rose-400" : tone === "green" ? "text-emerald-700 dark:text-emerald-400" : ""}`}>
        {value}
      </div>
      {sub && <div className="text-[11px] text-zinc-500">{sub}</div>}
    </div>
  );
}

const TABS = [
  { value: "live", label: "Live" },
  { value: "rules", label: "Rules" },
] as const;

const r1 = (n: number) => (n >= 100 ? Math.round(n).toString() : (Math.round(n * 10) / 10).toString());

/**
 * The service page: which replicas take traffic, in what share, how healthy
 * each is, live; and, for operators, the slider and the per-replica actions.
 */
export function ServiceDashboard({
  initial,
  events,
  canOperate,
  isAdmin = false,
  balancer,
  rulesPanel,
  autoscale: initialAutoscale = null,
}: {
  initial: ServiceSnapshot;
  events: SwitchyardEvent[];
  canOperate: boolean;
  /** admins drain and activate a swarm's nodes */
  isAdmin?: boolean;
  balancer: BalancerInfo;
  rulesPanel: ReactNode;
  /** the service's autoscaler as the page loaded it (issue 16) */
  autoscale?: AutoscaleView | null;
}) {
  const live = useServiceLive(initial.service.id, initial);
  const autoscale = useAutoscale(initial.service.id, initialAutoscale);
  const { service, history, last, traffic } = live;
  const [tab, setTabState] = useState<"live" | "rules">("live");
  // the Rules tab has its own address (#rules), so it can be linked and survives a reload
  useEffect(() => {
    if (window.location.hash === "#rules") setTabState("rules");
  }, []);
  const setTab = (t: "live" | "rules") => {
    setTabState(t);
    window.history.replaceState(null, "", t === "rules" ? "#rules" : window.location.pathname + window.location.search);
  };

  // every replica the page shows: current ones (oldest first), then ones only the 5-minute history remembers
  const allIds = useMemo(() => {
    const current = service.instances.map((r) => r.id);
    const seen = new Set(current);
    const past: string[] = [];
    for (const t of history) {
      for (const r of t.replicas) {
        if (seen.has(r.replicaId)) continue;
        seen.add(r.replicaId);
        past.push(r.replicaId);
      }
    }
    return [...current, ...past];
  }, [service.instances, history]);
  const ids = useStableList(allIds);
  const { colorOf, styleOf } = useReplicaStyles(ids);

  const ticks = new Map<string, ReplicaTick>((last?.replicas ?? []).map((r) => [r.replicaId, r]));
  const now = last?.t ?? null;
  const states = service.instances.map((r) => ({ r, state: displayState(r, ticks.get(r.id)) }));
  const inRotation = states.filter((s) => s.state === "in-rotation").length;
  const down = states.filter((s) => s.state === "down" || s.state === "failed").length;
  // replicas keep the limit they started with: chart against theirs when they agree, else the service's
  const limits = new Set((last?.replicas ?? []).map((r) => r.memoryLimitMb).filter((m): m is number => m !== null));
  const chartLimitMb = limits.size === 1 ? [...limits][0] : service.memoryLimitMb;
  const threshold = service.memoryThresholdPercent;
  const staying = service.instances.filter((r) => r.state !== "draining" && r.state !== "stopping").length;
  // instances the panel did not start: their count is what is listed, nothing is "missing"
  const listed = lifecycleOf(service) !== "full";
  const missing = listed ? 0 : Math.max(0, service.replicas - staying);
  const errorsNow = last ? last.errors["4xx"] + last.errors["5xx"] + last.errors.conn : 0;
  const averageMeans = useMemo(() => averageMeaning(balancer.kind), [balancer.kind]);
  // each card's figures once per tick (a card's props stay the same between ticks)
  const holdCards = service.instances.length >= HOLD_OFF_SCREEN_FROM;
  const figures = useMemo(() => new Map(service.instances.map((r) => [r.id, replicaFigures(history, r.id)])), [history, service.instances]);

  return (
    <div className="space-y-6" data-testid="service-dashboard" data-service-id={service.id} data-history-points={history.length} data-first-tick={history[0]?.t ?? ""} data-last-tick={last?.t ?? ""}>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 space-y-1.5">
          <div className="flex flex-wrap items-center gap-2">
            <h1 className="text-xl font-semibold tracking-tight">{service.name}</h1>
            <Badge tone="zinc">{sourceSummary(service) ?? (service.runtime === "docker" || isClusterRuntime(service.runtime) ? `${service.runtime} · ${service.image ?? ""}` : "process")}</Badge>
            <Badge tone={balancer.running ? "blue" : "red"} title={balancer.location ?? undefined}>
              {balancer.kind}
              {balancer.version ? ` ${balancer.version}` : ""}
              {balancer.running ? "" : " (not running)"}
            </Badge>
            <ConnectionBadge />
          </div>
          {service.runtime === "kubernetes" ? (
            <p data-testid="kubernetes-front-note" className="max-w-prose text-xs text-zinc-500">
              Kubernetes: the cluster balances this Deployment&apos;s pods (a Service or an Ingress in front of them); the panel&apos;s listener does not front them, so there is no address of the panel&apos;s to send requests to. The panel reads each pod&apos;s readiness, memory and CPU; it does not see the requests the cluster sends them, so the request, error and latency figures stay empty.
            </p>
          ) : (
            <ReachCommand rules={service.rules} balancer={balancer} />
          )}
          {service.runtime === "swarm" && (
            <p data-testid="swarm-front-note" className="max-w-prose text-xs text-zinc-500">
              Swarm: the panel&apos;s listener forwards this service to its own HAProxy on the Swarm, and that HAProxy balances across the tasks (it carries out the rules; each task&apos;s figures are its counters).
            </p>
          )}
        </div>
        <Tabs idBase="service" label="service sections" items={TABS} value={tab} onChange={setTab} />
      </div>

      {tab === "rules" ? (
        <TabPanel idBase="service" value="rules">
          {rulesPanel}
        </TabPanel>
      ) : (
        <TabPanel idBase="service" value="live" className="space-y-6">
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Kpi label="requests/s through the balancer" value={r1(last?.rps ?? 0)} testId="kpi-rps" />
            <Kpi
              label="replicas in rotation"
              value={
                <>
                  {inRotation}
                  <span className="text-sm font-normal text-zinc-500"> / {listed ? `${service.instances.length} listed` : `${service.replicas} desired`}</span>
                </>
              }
              tone={down ? "red" : inRotation === (listed ? service.instances.length : service.replicas) && inRotation > 0 ? "green" : undefined}
              sub={down ? `${down} down or failed` : undefined}
              testId="kpi-in-rotation"
            />
            <Kpi label="errors/s" value={r1(errorsNow)} tone={errorsNow > 0 ? "red" : undefined} sub={last ? `4xx ${r1(last.errors["4xx"])} · 5xx ${r1(last.errors["5xx"])} · conn ${r1(last.errors.conn)}` : undefined} />
            <Kpi
              label={last?.latency.p95 !== null && last?.latency.p95 !== undefined ? "latency p95" : "latency (average)"}
              value={(() => {
                const v = last?.latency.p95 ?? last?.latency.p50 ?? null;
                return v === null ? "–" : `${r1(v)} ms`;
              })()}
            />
          </div>

          <div className="grid gap-4 lg:grid-cols-5">
            <Card title={listed ? "Instances" : "Scale"} className="lg:col-span-2">
              {listed ? (
                <InstanceSource service={service} />
              ) : (
                <ScaleControl service={service} canOperate={canOperate} onScaled={live.setService} autoscaling={Boolean(autoscale.view?.enabled && !autoscale.view.paused)} />
              )}
            </Card>
            <Card title="Where the traffic goes now" className="lg:col-span-3">
              <ShareBar
                totalRps={last?.rps ?? 0}
                {...(service.runtime === "kubernetes" ? { idleNote: "not measured: the cluster's Service sends the pods their requests, which the panel does not see" } : {})}
                items={states.map(({ r, state }) => ({
                  id: r.id,
                  label: r.id,
                  color: colorOf(r.id),
                  share: ticks.get(r.id)?.share ?? 0,
                  inRotation: state === "in-rotation",
                  note: stateLook[state].label,
                }))}
              />
            </Card>
          </div>

          {isClusterRuntime(service.runtime) && (
            <Card title={service.runtime === "swarm" ? "Swarm nodes" : "Kubernetes nodes"}>
              <ClusterNodes isAdmin={isAdmin} />
            </Card>
          )}
          {autoscale.view && !listed && <AutoscaleCard view={autoscale.view} canOperate={canOperate} onChange={autoscale.set} serviceMax={service.maxReplicas} />}
          {!listed && <RolloutCard serviceId={service.id} canOperate={canOperate} env={service.env} swarm={service.runtime === "swarm"} deployment={service.runtime === "kubernetes"} />}

          <section aria-label="replicas" className="space-y-2">
            <h2 className="text-sm font-semibold">
              Replicas <span className="font-normal text-zinc-500">· one card per running instance; its colour is the same in every chart</span>
            </h2>
            {service.instances.length === 0 && missing === 0 ? (
              <div className="rounded-lg border border-dashed border-zinc-300 p-6 text-center text-sm text-zinc-500 dark:border-zinc-700">
                {listed
                  ? `${service.name} has no instances: ${service.endpoints ? "its endpoints are being checked" : "no running container matches its labels"}.`
                  : `${service.name} has no replicas. ${canOperate ? "Move the slider above to start some." : "An operator can scale it up."}`}
              </div>
            ) : (
              <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-3" data-testid="replica-grid">
                {service.instances.map((r) => {
                  const props: React.ComponentProps<typeof ReplicaCard> = {
                    replica: r,
                    tick: ticks.get(r.id),
                    figures: figures.get(r.id) ?? replicaFigures(history, r.id),
                    averageMeans,
                    color: colorOf(r.id),
                    now: now ?? Date.parse(r.startedAt ?? service.createdAt),
                    limitMb: service.memoryLimitMb,
                    thresholdPercent: threshold,
                    serviceName: service.name,
                    canOperate,
                    serviceActions: service.actions,
                    lifecycle: isClusterRuntime(service.runtime) ? "none" : lifecycleOf(service),
                    replicaProtocol: service.replicaProtocol,
                  };
                  // with many replicas a card off screen keeps what it showed and takes no tick until scrolled to
                  return holdCards ? (
                    <HoldOffScreen key={r.id} value={props} hold className="grid min-w-0">
                      {(p) => <MemoReplicaCard {...p} />}
                    </HoldOffScreen>
                  ) : (
                    <MemoReplicaCard key={r.id} {...props} />
                  );
                })}
                {Array.from({ length: missing }, (_, i) => (
                  <div key={`pending-${i}`} data-testid="replica-pending" className="flex min-h-32 items-center justify-center rounded-lg border border-dashed border-sky-300 p-3 text-xs text-sky-700 dark:border-sky-800 dark:text-sky-300">
                    <span className="animate-pulse">waiting for the controller to start a replica…</span>
                  </div>
                ))}
              </div>
            )}
          </section>

          {service.runtime !== "kubernetes" && (
          <Card title="Traffic generator" actions={<span className="text-xs text-zinc-500">requests from the panel to the balancer on 127.0.0.1, bounded, stops by itself</span>}>
            <TrafficPanel
              serviceId={service.id}
              status={traffic}
              rules={service.rules}
              canOperate={canOperate}
              colorOf={colorOf}
              currentReplicaIds={service.instances.map((r) => r.id)}
              inRotationIds={states.filter((s) => s.state === "in-rotation").map((s) => s.r.id)}
              onStatus={live.setTraffic}
              now={now ?? 0}
            />
          </Card>
          )}

          <ServiceCharts
            serviceId={service.id}
            history={history}
            ids={ids}
            styleOf={styleOf}
            events={events}
            limitMb={chartLimitMb}
            thresholdPercent={threshold}
            averageMeans={averageMeans}
          />

          <Card title="Events for this service">
            <EventList initial={events} serviceId={service.id} compact />
          </Card>
        </TabPanel>
      )}
    </div>
  );
}
