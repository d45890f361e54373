/**
 * Test helper: a Request as the panel's server hands it to a route handler (for tests
 * that call handlers directly): the panel's own Host and Origin, the socket address in
 * x-switchyard-remote (server.ts sets it), a JSON or streamed body, a session cookie.
 */
export const PANEL_HOST = "127.0.0.1:3999";

export type RouteRequestInit = {
  method?: string;
  /** a JSON body (sets Content-Type) */
  json?: unknown;
  /** any other body, e.g. a stream (sent with duplex: "half") */
  body?: BodyInit;
  cookie?: string;
  /** the client's address, default 127.0.0.1 */
  ip?: string;
  /** the Host header, default PANEL_HOST; the Origin follows it */
  host?: string;
  headers?: Record<string, string>;
};

export function routeRequest(urlPath: string, init: RouteRequestInit = {}): Request {
  const host = init.host ?? PANEL_HOST;
  const headers: Record<string, string> = { host, origin: `http://${host}`, "x-switchyard-remote": init.ip ?? "127.0.0.1" };
  if (init.cookie) headers.cookie = init.cookie;
  let body = init.body;
  if (init.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.json);
  }
  return new Request(`http://${host}${urlPath}`, { method: init.method ?? "GET", headers: { ...headers, ...init.headers }, body, duplex: "half" } as RequestInit);
}
