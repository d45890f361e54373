/** Small probes shared by the runtime integration tests (the deadline poll, waitFor, is in load.ts). */

/** GET a replica's JSON on 127.0.0.1, or null when it does not answer (yet). */
export async function getJson(port: number, pathname = "/health"): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${pathname}`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}
