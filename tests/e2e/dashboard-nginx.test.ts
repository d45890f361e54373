import { execFileSync } from "node:child_process";
import { describe, it } from "vitest";
import { dashboardSuite } from "./dashboard-suite";

const hasNginx = (() => {
  try {
    execFileSync("nginx", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

// The same dashboard experience with ENGINE=nginx: the panel's prober supplies active health checks.
if (hasNginx) dashboardSuite({ engine: "nginx", portRange: "23400-23599", balancerPort: 18186, maxFailedRatio: 0.01, shotPrefix: "nginx-" });
else describe("the live dashboard with nginx", () => it.skip("nginx is not installed", () => undefined));
