import { redirect } from "next/navigation";
import { AuthFrame } from "@/components/auth/auth-frame";
import { CredentialsForm } from "@/components/auth/credentials-form";
import { hasAnyUser } from "@/lib/auth/users";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default async function LoginPage() {
  if (!(await hasAnyUser())) redirect("/setup");
  return (
    <AuthFrame title="Sign in to Switchyard" subtitle="Control panel for load-balanced services">
      <CredentialsForm mode="login" />
    </AuthFrame>
  );
}
