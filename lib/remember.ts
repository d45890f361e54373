/**
 * One of each per process. server.ts and Next's route bundles load separate
 * copies of our modules, so singletons (Prisma client, controller, socket.io,
 * event bus) live on globalThis under a well-known symbol.
 */
export function remember<T>(name: string, create: () => T): T {
  const key = Symbol.for(`switchyard.${name}`);
  const store = globalThis as unknown as Record<symbol, T | undefined>;
  const existing = store[key];
  if (existing !== undefined) return existing;
  const value = create();
  store[key] = value;
  return value;
}

/** Replace a remembered value (used by tests and on shutdown). */
export function forget(name: string): void {
  const store = globalThis as unknown as Record<symbol, unknown>;
  delete store[Symbol.for(`switchyard.${name}`)];
}
