import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { hostMatches } from "../../core/route-match";
import type { BalancerListener } from "../types";

/**
 * The builtin proxy's listening sockets (issue 13): one server per listener, plain
 * http or https (node:https with an SNICallback that picks the certificate whose
 * names take the requested host, else the listener's first one). The entry's spec is
 * read on every request, so a renamed listener, a new redirect or new certificates on
 * the same port apply without closing the socket.
 */

export type ListenerEntry = {
  spec: BalancerListener;
  server: http.Server;
  /** https: one secure context per certificate, in the spec's order */
  contexts: { names: string[]; context: tls.SecureContext }[];
};

type Handlers = {
  onRequest: (req: http.IncomingMessage, res: http.ServerResponse, entry: ListenerEntry) => void;
  onUpgrade: (req: http.IncomingMessage, socket: import("node:net").Socket, head: Buffer, entry: ListenerEntry) => void;
  log: (line: string) => void;
};

const addrOf = (l: Pick<BalancerListener, "host" | "port">) => `${l.host}:${l.port}`;

/** Secure contexts read from the certificate files (a missing or bad file throws: the load fails and nothing changes). */
export function secureContexts(spec: BalancerListener): ListenerEntry["contexts"] {
  if (spec.protocol !== "https") return [];
  return (spec.certificates ?? []).map((c) => ({
    names: c.names,
    context: tls.createSecureContext({ cert: fs.readFileSync(c.certFile), key: fs.readFileSync(c.keyFile) }),
  }));
}

/** The context for an SNI name: an exact name first, then a wildcard, else the default (first). */
export function contextFor(contexts: ListenerEntry["contexts"], servername: string): tls.SecureContext | undefined {
  const name = servername.toLowerCase();
  return (contexts.find((c) => c.names.includes(name)) ?? contexts.find((c) => c.names.some((p) => hostMatches(p, name))) ?? contexts[0])?.context;
}

/** A new socket for `spec`; `into` reuses an entry (a socket bound back after a failed load keeps its entry). */
export function bindListener(spec: BalancerListener, contexts: ListenerEntry["contexts"], h: Handlers, into?: ListenerEntry): Promise<ListenerEntry> {
  const options = { requestTimeout: 30_000, headersTimeout: 30_000, keepAliveTimeout: 5_000 };
  const entry = into ?? ({ spec, contexts } as ListenerEntry);
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => h.onRequest(req, res, entry);
  const server: http.Server =
    spec.protocol === "https"
      ? (https.createServer(
          {
            ...options,
            SNICallback: (servername, cb) => cb(null, contextFor(entry.contexts, servername)),
            // clients without SNI get the default certificate
            secureContext: entry.contexts[0]?.context,
          },
          onRequest,
        ) as unknown as http.Server)
      : http.createServer(options, onRequest);
  entry.server = server;
  server.on("upgrade", (req: http.IncomingMessage, socket: import("node:net").Socket, head: Buffer) => h.onUpgrade(req, socket, head, entry));
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${addrOf(spec)}: ${e.code ?? e.message}`)));
    server.listen(spec.port, spec.host, () => {
      server.removeAllListeners("error");
      server.on("error", (e) => h.log(`listener ${spec.name} error: ${e.message}`));
      resolve(entry);
    });
  });
}

/**
 * Make the listening sockets match `wanted`: keep a socket whose address and protocol
 * stay (its spec and certificates are swapped in place), bind the new ones first (a
 * failure closes what was bound and throws, the old ones keep serving), and return a
 * commit that closes those no longer wanted. A port that changes protocol is closed
 * and bound again (bound back as it was when the load fails).
 */
export async function reconcileListeners(
  current: ReadonlyMap<string, ListenerEntry>,
  wanted: readonly BalancerListener[],
  h: Handlers,
): Promise<{ next: Map<string, ListenerEntry>; commit: () => void }> {
  const next = new Map<string, ListenerEntry>();
  const bound: ListenerEntry[] = [];
  const updates: (() => void)[] = [];
  const close: ListenerEntry[] = [];
  /** sockets closed to free their port for a new protocol: bound again as they were if the load fails */
  const released: ListenerEntry[] = [];
  try {
    for (const spec of wanted) {
      const contexts = secureContexts(spec);
      const old = current.get(addrOf(spec));
      if (old && old.spec.protocol === spec.protocol) {
        updates.push(() => {
          old.spec = spec;
          old.contexts = contexts;
        });
        next.set(addrOf(spec), old);
        continue;
      }
      if (old) {
        // the same port, http <-> https: the old socket must let go of the port first (a moment without it)
        await new Promise<void>((resolve) => {
          old.server.close(() => resolve());
          old.server.closeAllConnections();
        });
        released.push(old);
      }
      const entry = await bindListener(spec, contexts, h);
      bound.push(entry);
      next.set(addrOf(spec), entry);
    }
  } catch (e) {
    for (const b of bound) closeServer(b.server);
    for (const r of released) {
      await bindListener(r.spec, r.contexts, h, r).catch((err: Error) => h.log(`listener ${r.spec.name} could not be bound again: ${err.message}`));
    }
    throw e;
  }
  for (const [addr, entry] of current) if (!next.has(addr) && !released.includes(entry)) close.push(entry);
  return {
    next,
    commit: () => {
      for (const u of updates) u();
      for (const c of close) closeServer(c.server);
    },
  };
}

export function closeServer(server: http.Server): void {
  server.close();
  server.closeIdleConnections();
}
