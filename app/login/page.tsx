import { redirect } from "next/navigation";
import { AuthFrame } from "@/components/auth/auth-frame";
import { CredentialsForm } from "@/components/auth/credentials-form";
import { hasAnyUser } from "@/lib/auth/users";
import { DEFAULT_AFTER_SIGN_IN, safeReturnPath } from "@/lib/auth/return-path";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  if (!(await hasAnyUser())) redirect("/setup");
  const next = (await searchParams).next;
  // only a path of this panel (no other origin, no "//" or backslash tricks); anything else: the default page
  const returnTo = safeReturnPath(typeof next === "string" ? next : null) ?? DEFAULT_AFTER_SIGN_IN;
  return (
    <AuthFrame title="Sign in to Switchyard" subtitle="Control panel for load-balanced services">
      <CredentialsForm mode="login" returnTo={returnTo} />
    </AuthFrame>
  );
}
