import type { RuntimeEvent } from "./types";

type Listener = (e: RuntimeEvent) => void;

/**
 * The listeners of one runtime's events. The runtime watches (a timer, an event
 * stream) only while someone listens: `watch` runs when the first listener arrives,
 * `unwatch` when the last one leaves. A throwing listener does not stop the others.
 */
export function createEventHub(hooks: { watch: () => void; unwatch: () => void }) {
  const listeners = new Set<Listener>();
  return {
    /** Runtime.onEvent: subscribe, get the unsubscribe function. */
    on(listener: Listener): () => void {
      listeners.add(listener);
      if (listeners.size === 1) hooks.watch();
      return () => {
        if (listeners.delete(listener) && listeners.size === 0) hooks.unwatch();
      };
    },
    emit(e: RuntimeEvent): void {
      for (const l of [...listeners]) {
        try {
          l(e);
        } catch {
          /* a listener's bug must not stop the runtime */
        }
      }
    },
    size(): number {
      return listeners.size;
    },
  };
}
