/**
 * Test helper: socket.io (attachRealtime) on a plain http server on a free loopback
 * port, for tests of the live channel without the whole panel. Call it after the
 * database is open (tests/helpers/temp-db.ts): the handshake reads sessions.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { forget } from "@/lib/remember";

export type RealtimeServer = { port: number; base: string; close(): Promise<void> };

export async function startRealtime(opts: { sessionCheckMs?: number } = {}): Promise<RealtimeServer> {
  forget("realtime");
  const { attachRealtime } = await import("@/lib/realtime/server");
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const io = attachRealtime(server, { allowedOrigins: [], ...opts });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => io.close(() => resolve())); // also closes the http server
      forget("realtime");
    },
  };
}
