"use client";

import { Button } from "@/components/ui/button";
import { api } from "@/lib/client/api";

export function SignOutButton() {
  return (
    <Button
      variant="ghost"
      size="sm"
      onClick={async () => {
        await api("/api/auth/logout", { method: "POST", body: {} }).catch(() => undefined);
        window.location.href = "/login";
      }}
    >
      Sign out
    </Button>
  );
}
