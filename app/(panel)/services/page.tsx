import { PageHeader } from "@/components/ui/page-header";
import { ConnectionBadge } from "@/components/shell/connection-badge";
import { ServiceList } from "@/components/services/service-list";
import { requireUser } from "@/lib/auth/page";
import { hasRole } from "@/lib/core/roles";
import { env } from "@/lib/env";
import { listServices } from "@/lib/services/manage-services";
import { balancerOverview } from "@/lib/services/balancer-overview";

export const metadata = { title: "Services" };

export default async function ServicesPage() {
  const user = await requireUser();
  const [services, overview] = await Promise.all([listServices(), balancerOverview()]);
  const listen = "listen" in overview.engine && overview.engine.listen ? overview.engine.listen : { host: "127.0.0.1", port: env().BALANCER_PORT };
  return (
    <>
      <PageHeader
        title="Services"
        description={
          <>
            Each service is a pool of identical replicas behind one route of the {overview.engine.kind} balancer on{" "}
            <span className="font-mono">
              {listen.host}:{listen.port}
            </span>
            . Open one to see where its traffic goes.
          </>
        }
        actions={<ConnectionBadge />}
      />
      <ServiceList services={services} canOperate={hasRole(user.role, "operator")} listen={listen} maxReplicas={env().MAX_REPLICAS} />
    </>
  );
}
