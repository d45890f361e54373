/**
 * Test helper: the panel's controller alone, in a process of its own that a test can
 * kill -9 at any moment (the real panel needs a `next build` and restarts slowly; the
 * controller is the part that spawns replicas). It runs exactly what server.ts runs for
 * the controller (lib/bootstrap's controller().start()) against the DATA_DIR and
 * DATABASE_URL of its environment, and answers requests on stdin with the use cases the
 * API routes call, one JSON object a line:
 *
 *   {"cmd":"create","input":{...CreateServiceInput}}  ->  {"ok":true,"id":"..."}
 *   {"cmd":"scale","id":"...","replicas":8}            ->  {"ok":true}
 *
 * It prints {"ready":true} once the controller started. The database must be migrated
 * already (tests/helpers/temp-db.ts does it). Start it with startControllerProcess below
 * (`node --import tsx tests/helpers/controller-process.ts`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";

type Request = { cmd: "create"; input: unknown } | { cmd: "scale"; id: string; replicas: number };

async function main(): Promise<void> {
  const { controller } = await import("@/lib/controller/controller");
  const { createService, updateService } = await import("@/lib/services/manage-services");
  const { createServiceSchema } = await import("@/lib/core/service");
  const actor = { username: "controller-process", role: "admin" as const };
  await controller().start();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      const req = JSON.parse(line) as Request;
      if (req.cmd === "create") {
        const svc = await createService(createServiceSchema.parse(req.input), actor);
        process.stdout.write(`${JSON.stringify({ ok: true, id: svc.id })}\n`);
      } else {
        await updateService(req.id, { replicas: req.replicas }, actor);
        process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
      }
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) })}\n`);
    }
  }
}

export type ControllerProcess = {
  child: ChildProcess;
  /** Send one request; resolves with its answer line. */
  send(req: Request): Promise<{ ok: boolean; id?: string; error?: string }>;
  /** Write a request without waiting for the answer (the kill may come first). */
  write(req: Request): void;
  output(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
};

/** Start the helper with `env` (DATA_DIR, DATABASE_URL, ENGINE, BALANCER_PORT, PORT_RANGE ...); resolves once its controller started. */
export async function startControllerProcess(env: Record<string, string>, startTimeoutMs = 60_000): Promise<ControllerProcess> {
  const root = path.resolve(__dirname, "..", "..");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "tests", "helpers", "controller-process.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", NODE_ENV: "production", RUNTIME: "process", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  const waiting: ((line: string) => void)[] = [];
  let ready: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  const rl = readline.createInterface({ input: child.stdout! });
  rl.on("line", (line) => {
    out += `${line}\n`;
    if (line.startsWith('{"ready"')) ready();
    else if (line.startsWith('{"ok"')) waiting.shift()?.(line);
  });
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timer = setTimeout(() => child.kill("SIGKILL"), startTimeoutMs);
  await Promise.race([started, exited.then(() => Promise.reject(new Error(`the controller process exited before it started:\n${out}`)))]);
  clearTimeout(timer);
  const write = (req: Request) => child.stdin!.write(`${JSON.stringify(req)}\n`);
  return {
    child,
    write,
    send: (req) =>
      new Promise((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line) as { ok: boolean; id?: string; error?: string }));
        write(req);
      }),
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
