import { Header } from "@/components/shell/header";
import { requireUser } from "@/lib/auth/page";

export const dynamic = "force-dynamic";

export default async function PanelLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  return (
    <>
      <Header username={user.username} role={user.role} />
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </>
  );
}
