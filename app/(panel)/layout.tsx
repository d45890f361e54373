import { Header } from "@/components/shell/header";
import { SkipLink } from "@/components/shell/skip-link";
import { requireUser } from "@/lib/auth/page";

export const dynamic = "force-dynamic";

export default async function PanelLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  return (
    <>
      <SkipLink target="content" />
      <Header username={user.username} role={user.role} />
      <main id="content" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-6 focus:outline-none">
        {children}
      </main>
    </>
  );
}
