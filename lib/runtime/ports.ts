/**
 * Port allocation for replicas that share the host's network (process runtime,
 * Docker with network "host"). A pure chooser proposes candidates from a range,
 * skipping ports known to be used; an I/O check then proves each candidate free
 * by listening on it for a moment, because other programs on the machine do not
 * tell us which ports they hold.
 */
import net from "node:net";
import { AppError } from "@/lib/core/errors";

export type PortRange = { from: number; to: number };

/**
 * The free ports of `range` in the order to try them, skipping `used`.
 * Starts at `start` (wrapping around), so an allocator can move forward instead of
 * handing back a port that a replica released a moment ago.
 */
export function portCandidates(range: PortRange, used: Iterable<number>, start = range.from): number[] {
  if (!Number.isInteger(range.from) || !Number.isInteger(range.to) || range.from < 1 || range.to > 65535 || range.from > range.to) {
    throw new AppError("bad_request", `invalid port range ${range.from}-${range.to}`);
  }
  const taken = new Set(used);
  const size = range.to - range.from + 1;
  const first = start >= range.from && start <= range.to ? start : range.from;
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    const port = range.from + ((first - range.from + i) % size);
    if (!taken.has(port)) out.push(port);
  }
  return out;
}

/** True when nothing listens on host:port: we could listen there ourselves (then we close at once). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

export type PortAllocator = {
  /**
   * Finds `count` ports of the range that are not in `used` (ports of replicas this
   * runtime knows), not reserved by an allocation still in progress, and free on the
   * host right now. The caller must `release` them once the replica that uses them
   * is recorded (its ports then appear in `used`), or when creating it failed.
   */
  allocate(used: Iterable<number>, count: number): Promise<number[]>;
  release(ports: Iterable<number>): void;
};

export function createPortAllocator(range: PortRange, host = "127.0.0.1"): PortAllocator {
  const reserved = new Set<number>();
  let next = range.from;

  return {
    async allocate(used, count) {
      const known = new Set(used);
      const picked: number[] = [];
      for (const port of portCandidates(range, [...known, ...reserved], next)) {
        if (picked.length === count) break;
        // Another allocation may have reserved it while we awaited the check below.
        if (reserved.has(port)) continue;
        reserved.add(port);
        if (await isPortFree(port, host)) {
          picked.push(port);
        } else {
          reserved.delete(port);
        }
      }
      if (picked.length < count) {
        for (const p of picked) reserved.delete(p);
        throw new AppError(
          "runtime_error",
          `no free port left in the range ${range.from}-${range.to} (needed ${count}, ${known.size} used by replicas); widen PORT_RANGE or stop something`,
        );
      }
      const last = picked[picked.length - 1];
      next = last >= range.to ? range.from : last + 1;
      return picked;
    },
    release(ports) {
      for (const p of ports) reserved.delete(p);
    },
  };
}
