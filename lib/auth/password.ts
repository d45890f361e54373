import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { Worker } from "node:worker_threads";
import bcrypt from "bcryptjs";
import { AppError } from "@/lib/core/errors";
import { remember } from "@/lib/remember";

/**
 * Password hashes, computed off the panel's main thread (issue 10: 50 parallel sign-ins
 * with bcryptjs, which is pure JavaScript, took 13.6 s and held /api/health for 9 s).
 *
 * New hashes are scrypt from node:crypto: native and asynchronous, it runs on libuv's
 * thread pool. Hashes made before (bcrypt, "$2b$…") stay valid: they are checked by
 * bcryptjs in a worker thread, and replaced by a scrypt hash at the next sign-in
 * (needsRehash). At most HASH_CONCURRENCY computations run at once, so fs and DNS keep
 * threads of the pool; at most MAX_WAITING wait, and past that a sign-in is refused
 * with 503 rather than queued without end.
 */

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 } as const; // 32 MiB, ~0.1 s
const PREFIX = "scrypt";
export const HASH_CONCURRENCY = 2;
export const MAX_WAITING = 64;

const scryptAsync = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

// ------------------------------------------------------------------ a small gate: HASH_CONCURRENCY at once

type Gate = { running: number; waiting: (() => void)[] };
const gate = (): Gate => remember("password-gate", () => ({ running: 0, waiting: [] }));

async function gated<T>(work: () => Promise<T>): Promise<T> {
  const g = gate();
  if (g.running >= HASH_CONCURRENCY) {
    if (g.waiting.length >= MAX_WAITING) throw new AppError("unavailable", "too many sign-ins at once; try again in a moment", { retryAfterS: 2 });
    await new Promise<void>((resolve) => g.waiting.push(resolve));
  } else g.running++;
  try {
    return await work();
  } finally {
    const next = g.waiting.shift();
    if (next) next(); // the slot passes to the next in line
    else g.running--;
  }
}

// ------------------------------------------------------------------ scrypt (new hashes)

async function scryptHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, SCRYPT);
  return [PREFIX, SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64"), key.toString("base64")].join("$");
}

async function scryptVerify(password: string, hash: string): Promise<boolean> {
  const [prefix, n, r, p, saltB64, keyB64] = hash.split("$");
  const N = Number(n);
  const options = { N, r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem };
  if (prefix !== PREFIX || !keyB64 || !Number.isInteger(N) || N < 2 || N > 2 ** 20) return false;
  const expected = Buffer.from(keyB64, "base64");
  if (expected.length < 16) return false;
  const key = await scryptAsync(password, Buffer.from(saltB64, "base64"), expected.length, options);
  return timingSafeEqual(key, expected);
}

// ------------------------------------------------------------------ bcrypt (hashes made before), in a worker

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createRequire } = require("node:module");
let bcrypt = null;
for (const base of workerData.bases) {
  try { bcrypt = createRequire(base + "/noop.js")("bcryptjs"); break; } catch {}
}
if (!bcrypt) throw new Error("cannot find bcryptjs from " + workerData.bases.join(", "));
parentPort.on("message", ({ id, password, hash }) => {
  bcrypt.compare(password, hash).then((ok) => parentPort.postMessage({ id, ok }), (e) => parentPort.postMessage({ id, error: String(e) }));
});`;

type BcryptWorker = { worker: Worker | null; broken: boolean; nextId: number; pending: Map<number, (r: { ok?: boolean; error?: string }) => void> };

function bcryptWorker(): BcryptWorker {
  const state = remember<BcryptWorker>("password-bcrypt-worker", () => ({ worker: null, broken: false, nextId: 1, pending: new Map() }));
  if (!state.worker && !state.broken) {
    // the worker finds bcryptjs from the working directory (the repository, where npm start runs) or from this file
    const bases = [process.cwd(), typeof __dirname === "string" ? __dirname : ""].filter(Boolean);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bases } });
    worker.unref(); // an idle worker never keeps the process alive
    worker.on("message", (m: { id: number; ok?: boolean; error?: string }) => {
      state.pending.get(m.id)?.(m);
      state.pending.delete(m.id);
    });
    const fail = (e: unknown) => {
      console.error(`[switchyard] the bcrypt worker stopped (${e instanceof Error ? e.message : String(e)}); old bcrypt hashes are checked on the main thread`);
      state.worker = null;
      state.broken = true;
      for (const resolve of state.pending.values()) resolve({ error: "worker stopped" });
      state.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => code !== 0 && fail(new Error(`exit code ${code}`)));
    state.worker = worker;
  }
  return state;
}

async function bcryptVerify(password: string, hash: string): Promise<boolean> {
  const state = bcryptWorker();
  if (state.worker) {
    const worker = state.worker;
    const id = state.nextId++;
    const answer = await new Promise<{ ok?: boolean; error?: string }>((resolve) => {
      state.pending.set(id, resolve);
      worker.ref(); // busy: keep it while an answer is due
      worker.postMessage({ id, password, hash });
    }).finally(() => state.pending.size === 0 && worker.unref());
    if (answer.error === undefined) return answer.ok === true;
    if (answer.error !== "worker stopped") return false; // a malformed hash
  }
  return bcrypt.compare(password, hash); // no worker: correct, but on the main thread
}

// ------------------------------------------------------------------ the API

export function hashPassword(password: string): Promise<string> {
  return gated(() => scryptHash(password));
}

/** False for a wrong password and for anything that is not a hash this panel made (e.g. "x"). */
export function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (hash.startsWith(`${PREFIX}$`)) return gated(() => scryptVerify(password, hash));
  if (/^\$2[aby]\$\d\d\$/.test(hash)) return gated(() => bcryptVerify(password, hash));
  return Promise.resolve(false);
}

/** A hash of the old kind (bcrypt): replace it with a scrypt hash after a successful sign-in. */
export const needsRehash = (hash: string): boolean => !hash.startsWith(`${PREFIX}$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$`);

/** A hash to compare against when the user does not exist, so timing does not reveal user names (a scrypt hash of random bytes). */
export const DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$Ua6bKJ5YqVxRHDCuvV3c1mQn0Yf8pA4bU7Nt2Xz9kLg=";
