"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";

/** The sign-in form and the first-admin setup form share this. `returnTo`: a path of this panel, checked by the page (lib/auth/return-path.ts). */
export function CredentialsForm({ mode, returnTo = "/services" }: { mode: "login" | "setup"; returnTo?: string }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    if (mode === "setup" && password !== confirm) return setError("The passwords do not match.");
    setBusy(true);
    try {
      await api(mode === "login" ? "/api/auth/login" : "/api/auth/setup", { body: { username, password } });
      window.location.href = returnTo;
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Cannot reach the panel.");
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-4">
      <Field label="User name">
        <Input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
      </Field>
      <Field label="Password" hint={mode === "setup" ? "At least 10 characters." : undefined}>
        <Input name="password" type="password" autoComplete={mode === "setup" ? "new-password" : "current-password"} value={password} onChange={(e) => setPassword(e.target.value)} required />
      </Field>
      {mode === "setup" && (
        <Field label="Repeat the password">
          <Input name="confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required />
        </Field>
      )}
      {error && <Alert>{error}</Alert>}
      <Button type="submit" disabled={busy} className="w-full">
        {busy ? "…" : mode === "login" ? "Sign in" : "Create admin and sign in"}
      </Button>
    </form>
  );
}
