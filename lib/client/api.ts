"use client";

import type { AppErrorCode } from "@/lib/core/errors";

/**
 * A refused request: branch on `code` (the server's AppError code), not on `status`:
 * several codes share a status (unsupported and engine_error are both 422).
 */
export class ApiError extends Error {
  constructor(
    public status: number,
    /** the server's error code; "error" when the response carried none (a proxy's page, a network failure) */
    public code: AppErrorCode | "error",
    message: string,
    public details: unknown,
  ) {
    super(message);
  }
}

/** The browser's one way to call the panel's API: JSON in, JSON out, errors as ApiError. */
export async function api<T = unknown>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: init.body === undefined ? {} : { "Content-Type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: "same-origin",
  });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: AppErrorCode; message?: string; details?: unknown } } | null)?.error;
    if (res.status === 401 && typeof window !== "undefined" && !path.startsWith("/api/auth/")) window.location.href = `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
    throw new ApiError(res.status, err?.code ?? "error", err?.message ?? `request failed (${res.status})`, err?.details ?? null);
  }
  return data as T;
}
