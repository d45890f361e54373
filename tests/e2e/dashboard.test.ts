import { dashboardSuite } from "./dashboard-suite";

// ENGINE=auto: HAProxy when installed (CI installs it), else the builtin proxy. No request may fail.
dashboardSuite({ portRange: "23200-23399", panelPorts: [3120, 3139], maxFailedRatio: 0, shotPrefix: "" });
