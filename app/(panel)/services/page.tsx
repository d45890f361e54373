import { PageHeader } from "@/components/ui/page-header";
import { ConnectionBadge } from "@/components/shell/connection-badge";
import { ServiceList } from "@/components/services/service-list";
import { requireUser } from "@/lib/auth/page";
import { hasRole } from "@/lib/core/roles";
import { env } from "@/lib/env";
import { listServices } from "@/lib/services/manage-services";
import { balancerOverview } from "@/lib/services/balancer-overview";
import { getAllowList } from "@/lib/services/manage-allow-list";
import { serviceViewFor } from "@/lib/services/views";

export const metadata = { title: "Services" };

export default async function ServicesPage() {
  const user = await requireUser();
  const canOperate = hasRole(user.role, "operator");
  const [services, overview, allow] = await Promise.all([listServices(), balancerOverview(), canOperate ? getAllowList() : null]);
  const listen = "listen" in overview.engine && overview.engine.listen ? overview.engine.listen : { host: "127.0.0.1", port: env().BALANCER_PORT };
  return (
    <>
      <PageHeader
        title="Services"
        description={
          <>
            Each service is a pool of identical replicas behind its routes on the {overview.engine.kind} balancer, by default on{" "}
            <span className="font-mono">
              {listen.host}:{listen.port}
            </span>
            . Open one to see where its traffic goes.
          </>
        }
        actions={<ConnectionBadge />}
      />
      <ServiceList
        services={services.map((s) => serviceViewFor(user.role, s))}
        canOperate={canOperate}
        listen={listen}
        maxReplicas={env().MAX_REPLICAS}
        policy={canOperate ? { role: user.role, allow, defaultImage: env().REPLICA_IMAGE } : null}
      />
    </>
  );
}
