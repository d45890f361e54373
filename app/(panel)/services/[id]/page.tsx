import { notFound } from "next/navigation";
import { ServiceDashboard } from "@/components/services/service-dashboard";
import { RulesEditor } from "@/components/rules/rules-editor";
import { LiveServerStats } from "@/components/stats/live-server-stats";
import type { BalancerInfo } from "@/components/services/reach-command";
import { requireUser } from "@/lib/auth/page";
import { hasRole } from "@/lib/core/roles";
import { isAppError } from "@/lib/core/errors";
import { idParamSchema } from "@/lib/core/service";
import type { ServiceSnapshot } from "@/lib/client/live";
import { realtime } from "@/lib/realtime/server";
import { getService } from "@/lib/services/manage-services";
import { listEvents } from "@/lib/services/list-events";
import { balancerOverview } from "@/lib/services/balancer-overview";
import { trafficStatus } from "@/lib/services/traffic";
import { balancerOverviewFor, eventsFor, serviceViewFor } from "@/lib/services/views";
import { getAutoscale } from "@/lib/services/manage-autoscale";

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const service = idParamSchema.safeParse(id).success ? await getService(id).catch(() => null) : null;
  return { title: service?.name ?? "Service" };
}

export default async function ServicePage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  if (!idParamSchema.safeParse(id).success) notFound();
  const service = await getService(id).catch((e) => {
    if (isAppError(e) && e.code === "not_found") return null;
    throw e;
  });
  if (!service) notFound();

  // the same snapshot the live channel sends on "watch": the charts are full on the first paint
  const provider = realtime().snapshot;
  const snap = (provider ? await provider(id, user).catch(() => null) : null) as ServiceSnapshot | null;
  const initial: ServiceSnapshot = { service: serviceViewFor(user.role, service), history: snap?.history ?? [], traffic: snap?.traffic ?? trafficStatus(id) };

  const [events, overview, autoscale] = await Promise.all([
    listEvents({ serviceId: id, limit: 100 }).then((list) => eventsFor(user.role, list)),
    balancerOverview().then((o) => balancerOverviewFor(user.role, o)),
    getAutoscale(id),
  ]);
  const e = overview.engine as Partial<BalancerInfo> & { kind: string; running?: boolean; error?: string | null };
  const balancer: BalancerInfo = {
    kind: e.kind,
    version: e.version ?? null,
    running: Boolean(e.running),
    listen: e.listen ?? { host: "127.0.0.1", port: overview.config.listen.port },
    location: e.location ?? null,
    error: e.error ?? null,
  };
  const canOperate = hasRole(user.role, "operator");

  const rulesPanel = <RulesEditor serviceId={id} canEdit={canOperate} runtime={service.runtime} />;

  return (
    <>
      <ServiceDashboard initial={initial} events={events} canOperate={canOperate} isAdmin={user.role === "admin"} balancer={balancer} rulesPanel={rulesPanel} autoscale={autoscale} />
      <div className="mt-6">
        <LiveServerStats initial={initial} engine={balancer.kind} title="Servers: the balancer's stats table" />
      </div>
    </>
  );
}
