/**
 * Follows a log file another process appends to (nginx's access log, one
 * record per line) and hands every complete line to `onLine`.
 *
 * Why a file and not syslog over UDP: a UDP socket gets at most twice
 * net.core.rmem_max (about 416 KiB on a default Debian), so under load nginx's
 * datagrams were dropped without a trace. A file holds whatever the reader has
 * not read yet; the reader can only fall behind (`lagBytes`), not lose.
 *
 * The panel bounds the file itself: past `maxBytes` it renames it to
 * `<file>.1`, asks the writer to reopen its logs (nginx: SIGUSR1 / `nginx -s
 * reopen`, which creates a new file by the name), reads the renamed file to
 * its end until it has been quiet for a while, deletes it and goes on with the
 * new one from its first byte. A file renamed, replaced or truncated by
 * someone else (logrotate) is followed the same way. Whatever cannot be
 * counted is counted as lost (`truncatedLines`, `gaps`), never dropped
 * silently.
 *
 * A new reader (a restarted panel) starts at the end of the file: the panel's
 * counters start with it, so it never counts a file twice; a rotation a
 * crashed panel left half done is finished first.
 */
import { link, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { SerialQueue } from "@/lib/process/serial-queue";

export type ReopenResult = { ok: true } | { ok: false; error: string };

export type LogTailOptions = {
  file: string;
  onLine: (line: string) => void;
  /** rotate once the file is this big; null: never */
  maxBytes: number | null;
  /** make the writer open the file by its name again (after the reader renamed it) */
  reopen: () => Promise<ReopenResult>;
  /**
   * Does a writer still hold this file open? When it can tell (false), a
   * rotated-away file is left as soon as no writer holds it and it is read to
   * its end: exact. null: it cannot tell (another machine's nginx), so the
   * file is read until it has been quiet for `quietMs`.
   */
  heldByWriter?: (file: FileId) => Promise<boolean | null>;
  /** a rotated-away file nobody can vouch for is read until it has not grown for this long (and at least this long after the reopen); default 1 s */
  quietMs?: number;
  /** ...but no longer than this: what it still gains afterwards is a gap; default 15 s */
  maxDrainMs?: number;
  /** after a failed reopen, the next rotation waits this long; default 30 s */
  retryMs?: number;
  /** at most this much is read per file and poll, so a backlog never holds the event loop long; default 4 MiB */
  maxReadPerPoll?: number;
};

export type LogTailStats = {
  file: string;
  bytesRead: number;
  lines: number;
  /** rotations done by this reader (rename + reopen) */
  rotations: number;
  /** lines that can never be complete: a file that ended mid-line when it was left, or a line past MAX_LINE_BYTES */
  truncatedLines: number;
  /** losses of unknown size: the file shrank under the reader, or a rotated file still grew when the reader had to leave it */
  gaps: number;
  /** bytes written and not read yet */
  lagBytes: number;
  /** the last thing that went wrong (a failed rotation, a read error), until it works again */
  error: string | null;
};

/** A line longer than this is not one of nginx's records: it is cut and counted as truncated. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

/**
 * Pure: the complete lines in `carry` + `chunk`, and the incomplete rest (null
 * when none). `cut` is true when the rest passed MAX_LINE_BYTES and was dropped.
 */
export function takeLines(carry: Buffer | null, chunk: Buffer): { lines: string[]; rest: Buffer | null; cut: boolean } {
  const data = carry && carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
  const lines: string[] = [];
  let start = 0;
  for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
    lines.push(data.toString("utf8", start, nl));
    start = nl + 1;
  }
  const restLength = data.length - start;
  if (restLength === 0) return { lines, rest: null, cut: false };
  if (restLength > MAX_LINE_BYTES) return { lines, rest: null, cut: true };
  return { lines, rest: Buffer.from(data.subarray(start)), cut: false }; // a copy: the chunk is not kept alive
}

export type FileId = { dev: number; ino: number };

type Reading = FileId & { fh: FileHandle; offset: number; size: number; carry: Buffer | null };
type Draining = { reading: Reading; rotatedPath: string | null; since: number; lastGrowth: number };

const CHUNK_BYTES = 1024 * 1024;

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

async function statOrNull(file: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(file);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class LogTail {
  private readonly rotatedPath: string;
  private readonly quietMs: number;
  private readonly maxDrainMs: number;
  private readonly retryMs: number;
  private readonly maxReadPerPoll: number;

  /** the file by its name; null: not open (yet) */
  private current: Reading | null = null;
  /** where the next open starts: the end until the first open (what is there was someone else's), then the first byte */
  private openAt: "start" | "end" = "end";
  /** renamed or replaced files still being read to their end */
  private draining: Draining[] = [];
  private readonly queue = new SerialQueue();
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private counts = { bytesRead: 0, lines: 0, rotations: 0, truncatedLines: 0, gaps: 0 };
  /** the last read that failed, until one works; the last rotation that failed, until one works */
  private readError: string | null = null;
  private rotateError: string | null = null;

  constructor(private readonly opts: LogTailOptions) {
    this.rotatedPath = `${opts.file}.1`;
    this.quietMs = opts.quietMs ?? 1000;
    this.maxDrainMs = opts.maxDrainMs ?? 15_000;
    this.retryMs = opts.retryMs ?? 30_000;
    this.maxReadPerPoll = opts.maxReadPerPoll ?? 4 * 1024 * 1024;
  }

  /**
   * Finish a rotation left half done, open the file at its end, and poll every
   * `pollMs` (0: only when asked). Never rejects: a file it cannot read yet is
   * an error in stats() until it can.
   */
  async start(pollMs = 250): Promise<void> {
    await this.serially(async () => {
      const writerHoldsRotated = await this.recoverRotation();
      await this.openCurrent();
      // the writer still appends to the old file while a new one has the name: ask it to reopen, now that the new file
      // is read from the point where its records start to count
      if (writerHoldsRotated) await this.opts.reopen().catch(() => undefined);
    });
    if (pollMs > 0 && this.timer === null) {
      this.timer = setInterval(() => {
        if (this.queued === 0) void this.poll();
      }, pollMs);
      this.timer.unref();
    }
  }

  /** Read what was appended since the last poll (and rotate when due). Never rejects: failures land in stats().error. */
  poll(): Promise<void> {
    return this.serially(() => this.pollOnce());
  }

  /** One step at a time; a failure becomes stats().error. */
  private serially(step: () => Promise<void>): Promise<void> {
    this.queued++;
    return this.queue.run(async () => {
      try {
        await step();
        this.readError = null;
      } catch (e) {
        this.readError = `reading ${this.opts.file}: ${errorText(e)}`;
      } finally {
        this.queued--;
      }
    });
  }

  stats(): LogTailStats {
    const lag = [this.current, ...this.draining.map((d) => d.reading)].reduce((n, r) => n + (r ? Math.max(0, r.size - r.offset) : 0), 0);
    return { file: this.opts.file, ...this.counts, lagBytes: lag, error: this.readError ?? this.rotateError };
  }

  /** Stop polling and close the files; the log stays as it is for the next reader. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.queue.idle(); // an in-flight poll or rotation (rename, then reopen) finishes first
    const open = [this.current, ...this.draining.map((d) => d.reading)];
    this.current = null;
    this.draining = [];
    for (const r of open) await r?.fh.close().catch(() => undefined);
  }

  // ---------------------------------------------------------------- internals

  private async pollOnce(): Promise<void> {
    for (const d of [...this.draining]) {
      // asked before the last read: a file no writer holds gains nothing after it
      const held = this.opts.heldByWriter ? await this.opts.heldByWriter(d.reading) : null;
      if ((await this.read(d.reading)) > 0) d.lastGrowth = Date.now();
      if (d.reading.offset < d.reading.size) continue; // a backlog: more next poll
      const now = Date.now();
      const quiet = held === null && now - d.lastGrowth >= this.quietMs && now - d.since >= this.quietMs;
      if (held === false || quiet) await this.leave(d, false);
      else if (now - d.since >= this.maxDrainMs) await this.leave(d, true); // a writer that never let go: what it writes now is lost
    }

    if (this.current !== null && !(await this.stillNamed(this.current))) {
      // renamed, replaced or deleted by someone else: read it to its end like a rotated file
      this.draining.push({ reading: this.current, rotatedPath: null, since: Date.now(), lastGrowth: Date.now() });
      this.current = null;
    }
    if (this.current === null) await this.openCurrent();
    if (this.current === null) return;
    await this.read(this.current);

    const max = this.opts.maxBytes;
    if (max !== null && this.current.offset >= max && this.draining.length === 0 && Date.now() >= this.retryAt) await this.rotate();
  }

  /** Read up to maxReadPerPoll new bytes of one file; returns how many. */
  private async read(r: Reading): Promise<number> {
    const { size } = await r.fh.stat();
    r.size = size;
    if (size < r.offset) {
      // truncated under the reader (copytruncate): what was written between the last read and the cut is gone
      this.counts.gaps++;
      if (r.carry) this.counts.truncatedLines++;
      r.carry = null;
      r.offset = 0;
    }
    let total = 0;
    while (r.offset < size && total < this.maxReadPerPoll) {
      const want = Math.min(CHUNK_BYTES, size - r.offset, this.maxReadPerPoll - total);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await r.fh.read(buf, 0, want, r.offset);
      if (bytesRead === 0) break;
      r.offset += bytesRead;
      total += bytesRead;
      const { lines, rest, cut } = takeLines(r.carry, buf.subarray(0, bytesRead));
      r.carry = rest;
      if (cut) this.counts.truncatedLines++;
      this.counts.lines += lines.length;
      for (const line of lines) this.opts.onLine(line);
    }
    this.counts.bytesRead += total;
    return total;
  }

  /** Stop reading a rotated-away file: a last line without its newline can never be completed. */
  private async leave(d: Draining, stillGrowing: boolean): Promise<void> {
    if (d.reading.carry) this.counts.truncatedLines++;
    if (stillGrowing) this.counts.gaps++;
    this.draining = this.draining.filter((x) => x !== d);
    await d.reading.fh.close().catch(() => undefined);
    if (d.rotatedPath !== null) await rm(d.rotatedPath, { force: true });
  }

  private async stillNamed(r: Reading): Promise<boolean> {
    const s = await statOrNull(this.opts.file);
    return s !== null && s.ino === r.ino && s.dev === r.dev;
  }

  /** Open the file by its name, if it exists; a file that did not exist at the start is read from its first byte. */
  private async openCurrent(): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.opts.file, "r");
    } catch (e) {
      if (!isMissing(e)) throw e;
      this.openAt = "start";
      return;
    }
    const s = await fh.stat();
    this.current = { fh, dev: s.dev, ino: s.ino, offset: this.openAt === "end" ? s.size : 0, size: s.size, carry: null };
    this.openAt = "start";
  }

  private async rotate(): Promise<void> {
    const current = this.current!;
    await rename(this.opts.file, this.rotatedPath); // the writer goes on appending to it, by descriptor
    const reopened = await this.opts.reopen().catch((e: unknown): ReopenResult => ({ ok: false, error: errorText(e) }));
    if (!reopened.ok) {
      this.rotateError = `cannot rotate ${this.opts.file}: ${reopened.error}`;
      this.retryAt = Date.now() + this.retryMs;
      // the writer still appends to the renamed file: give it its name back, unless
      // something (a reload) created a new file meanwhile, then read the old one out
      if (await this.moveBack()) return;
    } else {
      this.rotateError = null;
    }
    this.counts.rotations++;
    this.draining.push({ reading: current, rotatedPath: this.rotatedPath, since: Date.now(), lastGrowth: Date.now() });
    this.current = null;
  }

  /** `<file>.1` -> `<file>` unless `<file>` exists (link: an atomic "unless the name is taken"); true when moved. */
  private async moveBack(): Promise<boolean> {
    try {
      await link(this.rotatedPath, this.opts.file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
      // a volume without hard links: check, then rename (a writer creating the file in between is unlikely)
      if ((await statOrNull(this.opts.file)) !== null) return false;
      await rename(this.rotatedPath, this.opts.file);
      return true;
    }
    await rm(this.rotatedPath, { force: true });
    return true;
  }


  /**
   * A panel that stopped between renaming the file and the writer's reopen left
   * `<file>.1` behind. Without `<file>`, the writer still appends to `<file>.1`:
   * give it its name back. With both, the reopen happened, or some writer has not
   * done it yet: `<file>.1` is read like a rotated file from its present end (what
   * was there before is the last panel's), and goes once no writer holds it and it
   * is quiet. True when a writer still holds it (the caller asks for a reopen).
   */
  private async recoverRotation(): Promise<boolean> {
    if ((await statOrNull(this.rotatedPath)) === null) return false;
    if (await this.moveBack()) return false;
    let fh: FileHandle;
    try {
      fh = await open(this.rotatedPath, "r");
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
    const s = await fh.stat();
    const reading: Reading = { fh, dev: s.dev, ino: s.ino, offset: s.size, size: s.size, carry: null };
    this.draining.push({ reading, rotatedPath: this.rotatedPath, since: Date.now(), lastGrowth: Date.now() });
    return (this.opts.heldByWriter ? await this.opts.heldByWriter(reading) : null) === true;
  }
}
