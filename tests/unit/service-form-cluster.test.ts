import { describe, expect, it } from "vitest";
import { formFromService, toUpdateBody, runsImage } from "@/components/services/service-form-model";
import { aServiceView } from "../helpers/service-view";

describe("the service form on a cluster's service (swarm, kubernetes)", () => {
  it.each(["swarm", "kubernetes"] as const)("keeps runtime %s when editing, and an unchanged edit sends no image or command", (runtime) => {
    const before = aServiceView({ runtime, image: "switchyard/replica:local" });
    const v = formFromService(before);
    expect(v.runtime).toBe(runtime);
    expect(runsImage(v.runtime)).toBe(true);
    const same = toUpdateBody(v, before);
    expect(same.ok).toBe(true);
    if (!same.ok) return;
    expect("image" in same.body).toBe(false);
    expect("command" in same.body).toBe(false);
    // a changed image is sent as an image (the API answers whether it can apply it), never as a command
    const changed = toUpdateBody({ ...v, image: "switchyard/replica:v2" }, before);
    expect(changed.ok && changed.body.image).toBe("switchyard/replica:v2");
    expect(changed.ok && "command" in changed.body).toBe(false);
  });

  it("a process service still sends a command, not an image", () => {
    expect(runsImage("process")).toBe(false);
    expect(runsImage("external")).toBe(false);
  });
});
