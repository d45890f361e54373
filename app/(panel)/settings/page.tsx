import { PageHeader } from "@/components/ui/page-header";
import { Card } from "@/components/ui/card";
import { UsersPanel } from "@/components/settings/users-panel";
import { requireUser } from "@/lib/auth/page";
import { listUsers } from "@/lib/services/manage-users";

export const metadata = { title: "Settings" };

export default async function SettingsPage() {
  const user = await requireUser();
  return (
    <>
      <PageHeader title="Settings" description="Users and roles. Every change is written to the audit log (Events)." />
      {user.role === "admin" ? (
        <UsersPanel initial={await listUsers()} currentUserId={user.id} />
      ) : (
        <Card title="Your account">
          <p className="text-sm">
            You are signed in as <strong>{user.username}</strong> with the <strong>{user.role}</strong> role. Only an admin can manage users.
          </p>
        </Card>
      )}
    </>
  );
}
