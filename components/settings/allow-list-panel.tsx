"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";
import { allowListSchema, type AllowList } from "@/lib/core/run-policy";
import { commandLine, splitCommand } from "@/components/services/service-form-model";

const textarea =
  "block w-full rounded-md border-0 bg-white px-2.5 py-1.5 font-mono text-xs text-zinc-900 ring-1 ring-inset ring-zinc-300 placeholder:text-zinc-400 focus:ring-2 focus:ring-indigo-500 disabled:opacity-50 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700";

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

/** The list as the admin typed it, or what is wrong with it. */
function parse(images: string, commands: string): { list: AllowList } | { error: string } {
  const argvs: string[][] = [];
  for (const [i, line] of lines(commands).entries()) {
    const c = splitCommand(line);
    if ("error" in c) return { error: `command ${i + 1}: ${c.error}` };
    argvs.push(c.argv);
  }
  const parsed = allowListSchema.safeParse({ images: lines(images), commands: argvs });
  return parsed.success ? { list: parsed.data } : { error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
}

/**
 * What operators may run besides the built-in replica app and image (lib/core/run-policy.ts).
 * Admins edit it; operators read it.
 */
export function AllowListPanel({ initial, canEdit, defaultImage }: { initial: AllowList; canEdit: boolean; defaultImage: string }) {
  const [images, setImages] = useState(initial.images.join("\n"));
  const [commands, setCommands] = useState(initial.commands.map(commandLine).join("\n"));
  const [message, setMessage] = useState<{ tone: "error" | "success"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    setMessage(null);
    const p = parse(images, commands);
    if ("error" in p) return setMessage({ tone: "error", text: p.error });
    setBusy(true);
    try {
      const res = await api<{ allowList: AllowList }>("/api/settings/allow-list", { method: "PUT", body: p.list });
      setImages(res.allowList.images.join("\n"));
      setCommands(res.allowList.commands.map(commandLine).join("\n"));
      setMessage({ tone: "success", text: "saved: operators may run these from now on" });
    } catch (e) {
      setMessage({ tone: "error", text: e instanceof ApiError ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title="What operators may run">
      <div className="space-y-3 text-sm" data-testid="allow-list">
        <p className="text-zinc-600 dark:text-zinc-400">
          Operators may always run the built-in replica app and image (<code className="text-xs">{defaultImage}</code>), and exactly the images and commands below. Only an admin
          sets any other image or command, variables that change how code loads (<code className="text-xs">NODE_OPTIONS</code>, <code className="text-xs">LD_*</code>,{" "}
          <code className="text-xs">PATH</code>, <code className="text-xs">PYTHON*</code>, …), or lets a service&apos;s containers run as root. Replicas never run as root on this
          host: the panel starts them as an unprivileged user.
        </p>
        <div className="grid gap-3 md:grid-cols-2">
          <Field label="Images" hint="one per line, exact, e.g. registry.example/app:1.4">
            <textarea name="allow-images" rows={4} className={textarea} value={images} onChange={(e) => setImages(e.target.value)} disabled={!canEdit} />
          </Field>
          <Field label="Commands" hint="one per line, exact argv; quotes group, nothing runs through a shell">
            <textarea name="allow-commands" rows={4} className={textarea} value={commands} onChange={(e) => setCommands(e.target.value)} disabled={!canEdit} />
          </Field>
        </div>
        {canEdit ? (
          <Button onClick={() => void save()} disabled={busy}>
            {busy ? "Saving…" : "Save allow-list"}
          </Button>
        ) : (
          <p className="text-xs text-zinc-500">Only an admin can change this list.</p>
        )}
        {message && <Alert tone={message.tone}>{message.text}</Alert>}
      </div>
    </Card>
  );
}
