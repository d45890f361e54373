/**
 * Forking one worker of the builtin proxy (workers.ts), with nothing heavier than
 * node:cluster imported: proxy-main.ts forks its workers before it loads the rest of its
 * modules, so the workers start (Node, tsx, the proxy's modules: about 1.5 s each on a busy
 * machine) while the primary starts, not after it.
 */
import cluster, { type Worker } from "node:cluster";

/** A worker just forked, and its first message: "hello" once it listens to the primary. */
export type ForkedWorker = { worker: Worker; hello: Promise<void> };

/** How long a worker may take to say hello. */
export const WORKER_START_MS = 20_000;

export function forkWorker(): ForkedWorker {
  // the primary hands out connections in turn (the kernel's choice between sockets is lopsided); set before the first fork
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const worker = cluster.fork();
  const hello = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${worker.process.pid} did not start within ${WORKER_START_MS} ms`)), WORKER_START_MS);
    timer.unref();
    worker.once("message", (m: { op?: string }) => {
      clearTimeout(timer);
      if (m.op === "hello") resolve();
      else reject(new Error(`worker ${worker.process.pid} said ${m.op} before hello`));
    });
    worker.once("exit", () => {
      clearTimeout(timer);
      reject(new Error(`worker ${worker.process.pid} exited during its start`));
    });
  });
  hello.catch(() => undefined); // awaited by init(); not an unhandled rejection before that
  return { worker, hello };
}
