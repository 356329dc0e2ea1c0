// Whether the stack holds a config value with `--secret` (src/secretConfig.ts): the program refuses
// a balancer-manager password stored in plain text, so the answer must be right both ways.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isSecretConfig } from "../../src/secretConfig";

const PROJECT = "http-infra";

beforeEach(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: () => {
        throw new Error("isSecretConfig declares no resource");
      },
      call: () => {
        throw new Error("isSecretConfig makes no call");
      },
    },
    PROJECT,
    "unit",
  );
});

afterEach(() => {
  vi.doUnmock("@pulumi/pulumi");
  vi.resetModules();
});

describe("isSecretConfig", () => {
  it("is true for a key set with --secret and false for one in plain text", () => {
    pulumi.runtime.setAllConfig(
      {
        [`${PROJECT}:balancerManagerPassword`]: "s3cret-s3cret",
        [`${PROJECT}:serverName`]: "a.ch",
      },
      [`${PROJECT}:balancerManagerPassword`],
    );
    expect(isSecretConfig("balancerManagerPassword")).toBe(true);
    expect(isSecretConfig("serverName")).toBe(false);
  });

  it("reads this project's key, not another project's of the same name", () => {
    pulumi.runtime.setAllConfig({ "other-project:balancerManagerPassword": "s3cret-s3cret" }, [
      "other-project:balancerManagerPassword",
    ]);
    expect(isSecretConfig("balancerManagerPassword")).toBe(false);
  });

  it("says secret when the SDK no longer tells (no false alarm about plain text)", async () => {
    // `runtime.isConfigSecret` is internal to the Node SDK: a future release may drop it.
    vi.doMock("@pulumi/pulumi", async (importOriginal) => {
      const original = await importOriginal<typeof pulumi>();
      const { isConfigSecret: _dropped, ...runtime } =
        original.runtime as typeof original.runtime & {
          isConfigSecret?: unknown;
        };
      return { ...original, runtime };
    });
    vi.resetModules();
    const withoutIsConfigSecret = await import("../../src/secretConfig");
    pulumi.runtime.setAllConfig({ [`${PROJECT}:balancerManagerPassword`]: "s3cret-s3cret" }, []);
    expect(withoutIsConfigSecret.isSecretConfig("balancerManagerPassword")).toBe(true);
  });
});
