import Link from "next/link";
import { NavLinks } from "@/components/shell/nav-links";
import { PhoneMenu } from "@/components/shell/phone-menu";
import { SignOutButton } from "@/components/shell/sign-out-button";
import { Badge } from "@/components/ui/badge";

function Account({ username, role, testId }: { username: string; role: string; testId?: string }) {
  return (
    <>
      <span data-testid={testId} className="min-w-0 truncate text-zinc-600 dark:text-zinc-300">
        {username}
      </span>
      <Badge tone={role === "admin" ? "violet" : role === "operator" ? "blue" : "zinc"}>{role}</Badge>
      <SignOutButton />
    </>
  );
}

/** Sections, who is signed in, Sign out; below md (phones) they fold into a Menu. */
export function Header({ username, role }: { username: string; role: string }) {
  return (
    <header className="sticky top-0 z-20 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-900/90">
      <div className="mx-auto flex h-14 max-w-7xl items-center gap-6 px-4">
        <Link href="/services" className="flex items-center gap-2 font-semibold">
          <span className="flex h-7 w-7 items-center justify-center rounded-md bg-indigo-600 text-sm font-bold text-white">S</span>
          Switchyard
        </Link>
        <div className="hidden md:block">
          <NavLinks />
        </div>
        <div className="ml-auto hidden min-w-0 items-center gap-3 text-sm md:flex">
          <Account username={username} role={role} testId="current-user" />
        </div>
        <div className="ml-auto md:hidden">
          <PhoneMenu account={<Account username={username} role={role} />} />
        </div>
      </div>
    </header>
  );
}
