import http from "node:http";

/**
 * One request to the user's app (tests/fixtures/user-app) through a balancer on
 * 127.0.0.1:`port`, on a new connection: its status and the port of the instance that
 * answered (the app names itself as host:port in `by`; "" for an engine's own error page).
 */
export function throughToUserApp(port: number, method = "GET", urlPath = "/", body?: string, timeoutMs = 5000): Promise<{ status: number; port: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, agent: false, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        let by = "";
        try {
          by = String((JSON.parse(text) as { by?: string }).by ?? "");
        } catch {
          // not the app's answer
        }
        resolve({ status: res.statusCode ?? 0, port: by.split(":").pop() ?? "" });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}
