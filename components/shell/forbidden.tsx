import { EmptyState } from "@/components/ui/empty-state";

export function Forbidden({ needed }: { needed: string }) {
  return (
    <div data-testid="forbidden">
      <EmptyState title="Not allowed">This page needs the {needed} role. Ask an admin to change your role in Settings.</EmptyState>
    </div>
  );
}
