import { describe, expect, it } from "vitest";
import type { StatsFeed } from "@/lib/engines/types";
import { HIDDEN, viewerEngine } from "@/lib/services/views";

// The Balancer page's engine card as a viewer gets it: nginx's stats feed names the
// access log and may carry an error with a path; a viewer sees neither path.

const hidden = { words: [], paths: [{ path: "/srv/sy/data", as: "$DATA_DIR" }] };
const feed: StatsFeed = {
  source: "nginx access log",
  file: "/srv/sy/data/nginx/logs/access.log",
  records: 1200,
  lost: 1,
  gaps: 0,
  detail: "1 unparseable line",
  lagBytes: 0,
  rotations: 2,
  error: "cannot rotate /srv/sy/data/nginx/logs/access.log: the nginx master is not running",
};

describe("viewerEngine", () => {
  it("keeps the counts and takes the paths out of the stats feed", () => {
    const shown = viewerEngine({ kind: "nginx", pid: 42, location: "/srv/sy/data/nginx/nginx.conf", statsFeed: feed }, hidden);
    expect(shown).toMatchObject({ kind: "nginx", pid: null, location: HIDDEN });
    expect(shown.statsFeed).toEqual({
      ...feed,
      file: "$DATA_DIR/nginx/logs/access.log",
      error: "cannot rotate $DATA_DIR/nginx/logs/access.log: the nginx master is not running",
    });
    expect(JSON.stringify(shown)).not.toContain("/srv/sy");
  });

  it("leaves an engine without a stats feed without one", () => {
    expect(viewerEngine({ pid: 1, location: "/x" }, hidden)).toEqual({ pid: null, location: HIDDEN });
  });
});
