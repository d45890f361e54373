import { PageHeader } from "@/components/ui/page-header";
import { UsersPanel } from "@/components/settings/users-panel";
import { AllowListPanel } from "@/components/settings/allow-list-panel";
import { AccountPanel } from "@/components/settings/account-panel";
import { PrometheusPanel } from "@/components/settings/prometheus-panel";
import { requireUser } from "@/lib/auth/page";
import { hasRole } from "@/lib/core/roles";
import { env } from "@/lib/env";
import { listUsers } from "@/lib/services/manage-users";
import { getAllowList } from "@/lib/services/manage-allow-list";
import { listMetricsTokens } from "@/lib/services/manage-metrics-tokens";
import { AlertsPanel } from "@/components/alerts/alerts-panel";
import { getAlerts } from "@/lib/services/manage-alerts";
import { listServices } from "@/lib/services/manage-services";

export const metadata = { title: "Settings" };

export default async function SettingsPage() {
  const user = await requireUser();
  const allowList = hasRole(user.role, "operator") ? (
    <AllowListPanel initial={await getAllowList()} canEdit={user.role === "admin"} defaultImage={env().REPLICA_IMAGE} />
  ) : null;
  return (
    <>
      <PageHeader title="Settings" description="Your account, users, roles and what operators may run. Every change is written to the audit log (Events)." />
      <div className="space-y-6">
        <AccountPanel username={user.username} role={user.role} isAdmin={user.role === "admin"} />
        {user.role === "admin" && <UsersPanel initial={await listUsers()} currentUserId={user.id} />}
        {allowList}
        {user.role === "admin" && <PrometheusPanel initial={await listMetricsTokens()} />}
        <AlertsPanel initial={await getAlerts()} services={(await listServices()).map((s) => ({ id: s.id, name: s.name }))} canEdit={user.role === "admin"} />
      </div>
    </>
  );
}
