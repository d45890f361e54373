import { PageHeader } from "@/components/ui/page-header";
import { CapabilitiesTable } from "@/components/balancer/capabilities-table";
import { EngineCard } from "@/components/balancer/engine-card";
import { ExportCard } from "@/components/balancer/export-card";
import { LiveConfig } from "@/components/balancer/live-config";
import { LiveRefresh } from "@/components/balancer/live-refresh";
import { RevisionHistory } from "@/components/balancer/revision-history";
import { ServicesRoutes } from "@/components/balancer/services-routes";
import { ListenersSection } from "@/components/balancer/listeners-section";
import { listListeners } from "@/lib/services/manage-listeners";
import { listCertificates } from "@/lib/services/manage-certificates";
import { LiveServerStats } from "@/components/stats/live-server-stats";
import type { ServiceSnapshot } from "@/lib/client/live";
import { realtime } from "@/lib/realtime/server";
import { getService } from "@/lib/services/manage-services";
import { trafficStatus } from "@/lib/services/traffic";
import { serviceViewFor } from "@/lib/services/views";
import type { CapabilityRow, EngineView, ExportTarget, RouteView } from "@/components/balancer/types";
import { capabilityLabels } from "@/components/rules/labels";
import { requireUser } from "@/lib/auth/page";
import { hasRole } from "@/lib/core/roles";
import { ALL_CAPABILITIES, unsupportedOptions } from "@/lib/engines/capabilities";
import { engineDescriptors } from "@/lib/engines/descriptors";
import { balancerOverview, exportEngines } from "@/lib/services/balancer-overview";
import { listServices } from "@/lib/services/manage-services";
import { listRevisions } from "@/lib/services/revisions";
import { balancerOverviewFor, configTextsFor } from "@/lib/services/views";
import type { SessionUser } from "@/lib/auth/sessions";

export const metadata = { title: "Balancer" };

export default async function BalancerPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser();
  const canEdit = hasRole(user.role, "operator");
  const [overview, revisions, services, query, listeners, certificates] = await Promise.all([
    balancerOverview().then((o) => balancerOverviewFor(user.role, o)),
    listRevisions().then((list) => configTextsFor(user.role, list)),
    listServices(),
    searchParams,
    listListeners(),
    listCertificates(),
  ]);

  const engine = overview.engine as EngineView;
  const routes: RouteView[] = overview.config.services.map((s) => ({
    serviceId: s.id,
    name: s.name,
    rules: s.rules,
    servers: {
      ready: s.servers.filter((x) => x.adminState === "ready").length,
      drain: s.servers.filter((x) => x.adminState === "drain").length,
      maint: s.servers.filter((x) => x.adminState === "maint").length,
    },
    desiredReplicas: services.find((v) => v.id === s.id)?.replicas ?? null,
  }));

  const capabilityRows: CapabilityRow[] = ALL_CAPABILITIES.map((c) => ({
    capability: c,
    label: capabilityLabels[c],
    byEngine: Object.fromEntries(exportEngines.map((k) => [k, engineDescriptors[k].capabilities[c]])) as CapabilityRow["byEngine"],
  }));

  const exportTargets: ExportTarget[] = exportEngines.map((k) => {
    const d = engineDescriptors[k];
    return {
      kind: k,
      label: d.exportLabel,
      format: d.format,
      lost: k === engine.kind ? [] : overview.config.services.flatMap((s) => unsupportedOptions(d.capabilities, s.rules).map((u) => ({ service: s.name, option: u.option, reason: u.reason }))),
      notes: k === engine.kind ? [] : Object.values(d.notes),
    };
  });

  const statsSnapshots = (await Promise.all(overview.config.services.map((s) => statsSnapshot(s.id, user)))).filter((x): x is ServiceSnapshot => x !== null);

  const editParam = typeof query.edit === "string" ? query.edit : null;
  const serviceNames = Object.fromEntries(services.map((s) => [s.id, s.name]));

  return (
    <>
      <LiveRefresh />
      <PageHeader
        title="Balancer"
        description={`${engineDescriptors[engine.kind].label} in front of your replicas: where it runs, what it can do, its live configuration, the rules of each service and their history.`}
      />
      <div className="space-y-6">
        <div className="grid gap-6 lg:grid-cols-5">
          <div className="lg:col-span-3">
            <EngineCard engine={{ ...engine, listeners: listeners.map(({ name, port, protocol }) => ({ name, port, protocol })) }} revision={overview.revision} routes={routes} />
          </div>
          <div className="lg:col-span-2">
            <ExportCard targets={exportTargets} />
          </div>
        </div>
        <ServicesRoutes routes={routes} canEdit={canEdit} initialEdit={editParam} />
        <ListenersSection initialListeners={listeners} initialCertificates={certificates} canEdit={canEdit} canManageCertificates={hasRole(user.role, "admin")} />
        {statsSnapshots.length > 0 && (
          <section aria-labelledby="server-stats-heading" className="min-w-0 space-y-3">
            <h2 id="server-stats-heading" className="text-base font-semibold">
              Servers, live: the stats table of every service
            </h2>
            {statsSnapshots.map((snap) => (
              <LiveServerStats key={snap.service.id} initial={snap} engine={engine.kind} />
            ))}
          </section>
        )}
        <RevisionHistory revisions={revisions} current={overview.revision} canEdit={canEdit} serviceNames={serviceNames} />
        <div className="grid gap-6 xl:grid-cols-5">
          <div className="min-w-0 xl:col-span-3">
            <LiveConfig live={overview.live} location={engine.location} />
          </div>
          <div className="min-w-0 xl:col-span-2">
            <CapabilitiesTable current={engine.kind} rows={capabilityRows} />
          </div>
        </div>
      </div>
    </>
  );
}

/** The snapshot the live channel sends on "watch" (the stats table is full on the first paint), or the service alone. */
async function statsSnapshot(serviceId: string, user: SessionUser): Promise<ServiceSnapshot | null> {
  const provider = realtime().snapshot;
  const snap = (provider ? await provider(serviceId, user).catch(() => null) : null) as ServiceSnapshot | null;
  if (snap?.service) return snap;
  const service = await getService(serviceId).catch(() => null);
  return service ? { service: serviceViewFor(user.role, service), history: [], traffic: trafficStatus(serviceId) } : null;
}
