import { redirect } from "next/navigation";
import { AuthFrame } from "@/components/auth/auth-frame";
import { CredentialsForm } from "@/components/auth/credentials-form";
import { hasAnyUser } from "@/lib/auth/users";

export const dynamic = "force-dynamic";
export const metadata = { title: "Set up" };

export default async function SetupPage() {
  if (await hasAnyUser()) redirect("/login");
  return (
    <AuthFrame title="Welcome to Switchyard" subtitle="There is no account yet. Create the first admin: Switchyard has no default password.">
      <CredentialsForm mode="setup" />
    </AuthFrame>
  );
}
