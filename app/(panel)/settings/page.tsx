import { PageHeader } from "@/components/ui/page-header";
import { Card } from "@/components/ui/card";
import { UsersPanel } from "@/components/settings/users-panel";
import { AllowListPanel } from "@/components/settings/allow-list-panel";
import { requireUser } from "@/lib/auth/page";
import { hasRole } from "@/lib/core/roles";
import { env } from "@/lib/env";
import { listUsers } from "@/lib/services/manage-users";
import { getAllowList } from "@/lib/services/manage-allow-list";

export const metadata = { title: "Settings" };

export default async function SettingsPage() {
  const user = await requireUser();
  const allowList = hasRole(user.role, "operator") ? (
    <AllowListPanel initial={await getAllowList()} canEdit={user.role === "admin"} defaultImage={env().REPLICA_IMAGE} />
  ) : null;
  return (
    <>
      <PageHeader title="Settings" description="Users, roles and what operators may run. Every change is written to the audit log (Events)." />
      <div className="space-y-6">
        {user.role === "admin" ? (
          <UsersPanel initial={await listUsers()} currentUserId={user.id} />
        ) : (
          <Card title="Your account">
            <p className="text-sm">
              You are signed in as <strong>{user.username}</strong> with the <strong>{user.role}</strong> role. Only an admin can manage users.
            </p>
          </Card>
        )}
        {allowList}
      </div>
    </>
  );
}
