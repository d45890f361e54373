import { PageHeader } from "@/components/ui/page-header";
import { EmptyState } from "@/components/ui/empty-state";

export const metadata = { title: "Balancer" };

export default function BalancerPage() {
  return (
    <>
      <PageHeader title="Balancer" description="The engine in front of your replicas, its live configuration and its history." />
      <EmptyState title="No balancer running">Services appear here once they run.</EmptyState>
    </>
  );
}
