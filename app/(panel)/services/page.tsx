import { PageHeader } from "@/components/ui/page-header";
import { EmptyState } from "@/components/ui/empty-state";
import { db } from "@/lib/db/client";

export const metadata = { title: "Services" };

export default async function ServicesPage() {
  const services = await db().service.findMany({ orderBy: { name: "asc" } });
  return (
    <>
      <PageHeader title="Services" description="Each service is a pool of identical replicas behind one balancer backend." />
      {services.length === 0 ? (
        <EmptyState title="No services yet">Create a service to run replicas behind the balancer.</EmptyState>
      ) : (
        <ul>
          {services.map((s) => (
            <li key={s.id}>{s.name}</li>
          ))}
        </ul>
      )}
    </>
  );
}
