import { AppError } from "@/lib/core/errors";
import { DEFAULT_LISTENER_NAME, listenerProblem, type Listener, type ListenerInput, type ListenerPatch } from "@/lib/core/listeners";
import { db } from "@/lib/db/client";
import { currentBalancerConfig, storedListeners } from "@/lib/db/balancer-config";
import { parseRules } from "@/lib/db/rows";
import { env } from "@/lib/env";
import { isPortFree } from "@/lib/runtime/ports";
import type { SessionUser } from "@/lib/auth/sessions";
import type { BalancerConfig } from "@/lib/engines/types";
import { applyBalancerConfig } from "@/lib/services/apply-balancer-config";

/**
 * The balancer's listeners (issue 13). Every change is a balancer apply: the proposed
 * listeners are rendered, checked by the engine and applied as a numbered revision,
 * and the rows are written only when the engine took them (`commit`). A listener
 * whose port is taken (another listener, the panel, any program: we try to bind it)
 * is refused with the reason before anything is rendered.
 */

export async function listListeners(): Promise<Listener[]> {
  return storedListeners();
}

async function findListener(id: string): Promise<Listener> {
  const l = (await storedListeners()).find((x) => x.id === id || x.name === id);
  if (!l) throw new AppError("not_found", `no listener ${id}`);
  return l;
}

/** The services whose routes name this listener. */
async function routesOn(name: string): Promise<string[]> {
  const services = await db().service.findMany({ select: { name: true, rules: true } });
  return services.filter((s) => parseRules(s.rules).routes.some((r) => r.listeners?.includes(name))).map((s) => s.name);
}

async function checkListener(next: Listener, all: readonly Listener[], portChanged: boolean): Promise<void> {
  const others = all.filter((l) => l.id !== next.id);
  const problem = listenerProblem(next, others, env().PORT);
  if (problem) throw new AppError(problem.includes("taken") || problem.includes("exists") ? "conflict" : "bad_request", `listener ${next.name}: ${problem}`);
  const ids = [next.certificateId, ...next.sniCertificateIds].filter((x): x is string => !!x);
  if (ids.length > 0) {
    const found = await db().certificate.findMany({ where: { id: { in: ids } }, select: { id: true } });
    const missing = ids.find((id) => !found.some((c) => c.id === id));
    if (missing) throw new AppError("bad_request", `listener ${next.name}: no certificate ${missing}`);
  }
  if (portChanged && !(await isPortFree(next.port, env().HOST))) {
    throw new AppError("conflict", `listener ${next.name}: port ${next.port} is taken by another program on ${env().HOST}`, { port: next.port });
  }
}

async function applyListeners(listeners: Listener[], user: SessionUser, summary: string, commit: () => Promise<void>) {
  const result = await applyBalancerConfig({ build: () => currentBalancerConfig([], [], listeners), author: user.username, summary, commit });
  return { listeners: await storedListeners(), revision: result.revision, diff: result.diff };
}

const describe = (l: Listener) => `${l.name} :${l.port} ${l.protocol}${l.redirectToHttps ? " → https" : ""}`;

export async function createListener(input: ListenerInput, user: SessionUser) {
  const all = await storedListeners();
  const next: Listener = {
    id: "",
    name: input.name,
    port: input.port,
    protocol: input.protocol,
    certificateId: input.certificateId ?? null,
    sniCertificateIds: input.sniCertificateIds ?? [],
    redirectToHttps: input.redirectToHttps ?? false,
  };
  await checkListener(next, all, true);
  return applyListeners([...all, next], user, `listener ${describe(next)} added`, async () => {
    await db().listener.create({
      data: { name: next.name, port: next.port, protocol: next.protocol, certificateId: next.certificateId, sniCertificateIds: JSON.stringify(next.sniCertificateIds), redirectToHttps: next.redirectToHttps },
    });
  });
}

export async function updateListener(id: string, patch: ListenerPatch, user: SessionUser) {
  const all = await storedListeners();
  const old = await findListener(id);
  if (old.name === DEFAULT_LISTENER_NAME && patch.name !== undefined && patch.name !== old.name) throw new AppError("conflict", "the default listener keeps its name");
  if (old.name === DEFAULT_LISTENER_NAME && patch.port !== undefined && patch.port !== old.port) {
    throw new AppError("conflict", `the default listener keeps BALANCER_PORT (${env().BALANCER_PORT}); set BALANCER_PORT to move it`);
  }
  if (patch.name !== undefined && patch.name !== old.name) {
    const users = await routesOn(old.name);
    if (users.length > 0) throw new AppError("conflict", `listener ${old.name} is named by routes of ${users.join(", ")}; change those routes first`);
  }
  const protocol = patch.protocol ?? old.protocol;
  const next: Listener = {
    ...old,
    name: patch.name ?? old.name,
    port: patch.port ?? old.port,
    protocol,
    // switching to http drops the certificates; to https drops the redirect
    certificateId: protocol === "http" ? null : patch.certificateId !== undefined ? patch.certificateId : old.certificateId,
    sniCertificateIds: protocol === "http" ? [] : (patch.sniCertificateIds ?? old.sniCertificateIds),
    redirectToHttps: protocol === "https" ? false : (patch.redirectToHttps ?? old.redirectToHttps),
  };
  await checkListener(next, all, next.port !== old.port);
  const list = all.map((l) => (l.id === old.id ? next : l));
  const redirecting = list.filter((l) => l.redirectToHttps);
  if (redirecting.length > 0 && !list.some((l) => l.protocol === "https")) {
    throw new AppError("conflict", `listener ${redirecting[0].name} redirects to https: keep an https listener`);
  }
  return applyListeners(list, user, `listener ${describe(old)} changed to ${describe(next)}`, async () => {
    await db().listener.update({
      where: { id: old.id },
      data: { name: next.name, port: next.port, protocol: next.protocol, certificateId: next.certificateId, sniCertificateIds: JSON.stringify(next.sniCertificateIds), redirectToHttps: next.redirectToHttps },
    });
  });
}

export async function deleteListener(id: string, user: SessionUser) {
  const all = await storedListeners();
  const old = await findListener(id);
  if (old.name === DEFAULT_LISTENER_NAME) throw new AppError("conflict", "the default listener (BALANCER_PORT) cannot be deleted");
  const users = await routesOn(old.name);
  if (users.length > 0) throw new AppError("conflict", `listener ${old.name} is named by routes of ${users.join(", ")}; change those routes first`);
  const list = all.filter((l) => l.id !== old.id);
  const redirecting = list.find((l) => l.redirectToHttps);
  if (redirecting && !list.some((l) => l.protocol === "https")) throw new AppError("conflict", `listener ${redirecting.name} redirects to https: it needs this https listener`);
  return applyListeners(list, user, `listener ${describe(old)} deleted`, async () => {
    await db().listener.delete({ where: { id: old.id } });
  });
}

/**
 * The listeners an old revision's config held (null for a revision from before
 * listeners: a rollback then leaves them as they are). Certificates by id, as stored.
 */
export function listenersOfRevision(configJson: string): Listener[] | null {
  let config: BalancerConfig;
  try {
    config = JSON.parse(configJson) as BalancerConfig;
  } catch {
    return null;
  }
  if (!Array.isArray(config.listeners) || config.listeners.length === 0) return null;
  return config.listeners.map((l) => ({
    id: "",
    name: l.name,
    port: l.port,
    protocol: l.protocol === "https" ? "https" : "http",
    certificateId: l.certificates?.[0]?.id ?? null,
    sniCertificateIds: (l.certificates ?? []).slice(1).map((c) => c.id),
    redirectToHttps: l.redirectToHttpsPort !== undefined,
  }));
}

/** Make the stored listeners these (a rollback's commit): by name, the default one kept. */
export async function restoreListeners(listeners: readonly Listener[]): Promise<void> {
  const names = listeners.map((l) => l.name);
  await db().listener.deleteMany({ where: { name: { notIn: [...names, DEFAULT_LISTENER_NAME] } } });
  for (const l of listeners) {
    const data = { port: l.port, protocol: l.protocol, certificateId: l.certificateId, sniCertificateIds: JSON.stringify(l.sniCertificateIds), redirectToHttps: l.redirectToHttps };
    await db().listener.upsert({ where: { name: l.name }, create: { name: l.name, ...data }, update: data });
  }
}
