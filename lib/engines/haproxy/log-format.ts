/**
 * HAProxy's per-request log, as the panel asks for it and reads it (pure: no I/O).
 *
 * The rendered config sends one datagram per request to the panel's UDP loopback port
 * (`log 127.0.0.1:<port> len 2048 format raw local0 info`, see render.ts), in this format:
 *
 *   sy1|<pid>|<seq>|<backend>|<server>|<status>|<Tr>|<Ta>
 *
 * - pid: the worker that served the request (a reload starts a new worker and a new sequence)
 * - seq: the worker's request number, 1, 2, 3... (a stick-table counter incremented once per
 *   request, `sc_inc_gpc0`): a number that never arrives is a lost datagram
 * - backend / server: `be_<service>` and the server name, `<NOSRV>` when none was reached
 * - status: the status sent to the client
 * - Tr: ms the server took to answer (its response headers), -1 when it gave no answer
 * - Ta: ms the whole request took (active time), -1 when unknown
 *
 * No field is client-controlled, so a line that does not have exactly this shape was not
 * written by our HAProxy (another local sender, a cut-off datagram) and is refused.
 */

export const LOG_MARKER = "sy1";

/** The frontend's log-format (quoted for haproxy.cfg by render.ts). */
export const HAPROXY_LOG_FORMAT = `${LOG_MARKER}|%pid|%[var(txn.sy_seq)]|%b|%s|%ST|%Tr|%Ta`;

/** The stick table that numbers requests (one entry, key 1, counter gpc0). */
export const SEQUENCE_TABLE = "st_logseq";

/** The longest datagram HAProxy sends (`len 2048`); anything longer is not ours. */
export const MAX_LOG_LINE = 2048;

export type HaproxyLogRecord = {
  pid: number;
  /** null when the request was refused before numbering (e.g. a bad request HAProxy answered itself) */
  seq: number | null;
  backend: string;
  /** null when no server was reached (<NOSRV>) */
  server: string | null;
  status: number | null;
  /** the server's response time in ms (Tr), null when it gave none */
  responseMs: number | null;
  /** the whole request in ms (Ta), null when unknown */
  totalMs: number | null;
};

const DIGITS = /^[0-9]{1,15}$/;
const SIGNED = /^-?[0-9]{1,10}$/;
const PROXY = /^[A-Za-z0-9_.:-]{1,100}$/;
const NO_SERVER = "<NOSRV>";

/** -1 (HAProxy's "none") and anything negative -> null. */
function timing(field: string): number | null | undefined {
  if (!SIGNED.test(field)) return undefined;
  const n = Number(field);
  return n < 0 ? null : n;
}

/**
 * One datagram (or one line of it) -> a record, or null when it is not one of ours.
 * Linear in the line's length; no regex that can backtrack.
 */
export function parseHaproxyLogLine(raw: string): HaproxyLogRecord | null {
  if (typeof raw !== "string" || raw.length > MAX_LOG_LINE) return null;
  let line = raw;
  while (line.endsWith("\n") || line.endsWith("\r") || line.endsWith("\0")) line = line.slice(0, -1);
  const fields = line.split("|");
  if (fields.length !== 8 || fields[0] !== LOG_MARKER) return null;
  const [, pidText, seqText, backend, serverText, statusText, trText, taText] = fields;
  if (!DIGITS.test(pidText) || Number(pidText) === 0) return null;
  let seq: number | null = null;
  if (seqText !== "" && seqText !== "-") {
    if (!DIGITS.test(seqText)) return null;
    seq = Number(seqText);
    if (!Number.isSafeInteger(seq) || seq < 1) return null;
  }
  if (!PROXY.test(backend)) return null;
  const server = serverText === NO_SERVER ? null : serverText;
  if (server !== null && !PROXY.test(server)) return null;
  if (!SIGNED.test(statusText)) return null;
  const statusNum = Number(statusText);
  const status = statusNum >= 100 && statusNum <= 599 ? statusNum : null;
  const responseMs = timing(trText);
  const totalMs = timing(taText);
  if (responseMs === undefined || totalMs === undefined) return null;
  return { pid: Number(pidText), seq, backend, server, status, responseMs, totalMs };
}

// ------------------------------------------------------------------ lost datagrams

/** A number missing this long after a later one arrived counts as lost (a request this slow that arrives later is taken back). */
export const SETTLE_MS = 5000;
/** A worker not heard from for this long is forgotten. */
const FORGET_PID_MS = 10 * 60_000;
/** Lost numbers remembered, so a late arrival can be taken back. */
const REMEMBER_LOST = 20_000;
/** A jump larger than this is not a loss but a new sequence (or a forged line): counted as a gap of unknown size. */
const MAX_JUMP = 1_000_000;

type PidState = { floor: number; max: number; seen: Set<number>; marks: { t: number; max: number }[]; lastHeard: number };

/**
 * Which request numbers never arrived, per worker. Datagrams arrive out of order (a slow
 * request's number is older than a fast one's), so a missing number only counts as lost
 * once a later number has been known for SETTLE_MS; if it still turns up, it is taken back
 * (`late`).
 */
export class SequenceGaps {
  private readonly pids = new Map<number, PidState>();
  private readonly lostSeqs = new Set<string>();
  lost = 0;
  late = 0;
  duplicates = 0;
  /** jumps too large to be losses (a new sequence, a forged line): losses of unknown size */
  gaps = 0;

  add(pid: number, seq: number, now: number): void {
    let st = this.pids.get(pid);
    if (!st) {
      // the first number heard from a worker: whatever came before it is not ours to count
      st = { floor: seq - 1, max: seq, seen: new Set([seq]), marks: [], lastHeard: now };
      this.pids.set(pid, st);
      return;
    }
    st.lastHeard = now;
    if (seq <= st.floor) {
      const key = `${pid}:${seq}`;
      if (this.lostSeqs.delete(key)) {
        this.lost--;
        this.late++;
      }
      return;
    }
    if (seq - st.floor > MAX_JUMP) {
      this.gaps++;
      this.pids.set(pid, { floor: seq - 1, max: seq, seen: new Set([seq]), marks: [], lastHeard: now });
      return;
    }
    if (st.seen.has(seq)) {
      this.duplicates++;
      return;
    }
    st.seen.add(seq);
    if (seq > st.max) st.max = seq;
  }

  /** Count as lost every number below a maximum known for SETTLE_MS that has not arrived. */
  settle(now: number): void {
    for (const [pid, st] of this.pids) {
      st.marks.push({ t: now, max: st.max });
      let bound = st.floor;
      while (st.marks.length > 0 && st.marks[0].t <= now - SETTLE_MS) bound = Math.max(bound, st.marks.shift()!.max);
      for (let s = st.floor + 1; s <= bound; s++) {
        if (st.seen.delete(s)) continue;
        this.lost++;
        this.rememberLost(`${pid}:${s}`);
      }
      st.floor = Math.max(st.floor, bound);
      if (now - st.lastHeard > FORGET_PID_MS) this.pids.delete(pid);
    }
  }

  /** Numbers above each worker's settled floor, not yet judged (0: every number heard of has been counted or found lost). */
  unsettled(): number {
    let n = 0;
    for (const st of this.pids.values()) n += st.max - st.floor;
    return n;
  }

  private rememberLost(key: string): void {
    this.lostSeqs.add(key);
    if (this.lostSeqs.size > REMEMBER_LOST) this.lostSeqs.delete(this.lostSeqs.values().next().value as string);
  }
}
