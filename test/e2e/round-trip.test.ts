// The round trip every bridged resource makes between two `pulumi up` runs, on a real Docker
// engine, one resource type at a time: create it through the harness's provider, read it back as
// the provider's Read does (the state the next diff starts from), and diff the same inputs against
// that: nothing to do. A field the provider reads back differently from how the program wrote it
// (a renamed attribute, a default, a value Docker fills in) fails here, naming the type.
// Container, network and image here; the swarm suite (swarm-stack.test.ts) does services, secrets
// and the overlay on a swarm manager. Required in CI.
import Docker from "dockerode";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chooseSubnet } from "../../src/addressing";
import { describeWithDocker } from "../support/e2eStack";
import { HARNESS_LABEL } from "../support/harness/dockerHarness";
import { DockerProvider } from "../support/harness/dockerProvider";
import type { ResourceState } from "../support/harness/engine";
import { CONTAINER, IMAGE, NETWORK } from "../support/harness/inputs";
import type { PropertyMap } from "../support/harness/propertyMap";
import { diffInputs } from "../support/harness/updateRules";

const STACK = "e2e-round-trip";
const PREFIX = `http-infra-${STACK}`;
/** The offline Debian base (scripts/offline-base-images.sh), else the official image. */
const BASES = ["http-infra-base/debian:bookworm", "debian:bookworm"];

describeWithDocker("each resource type reads back as it was declared (e2e-round-trip)", () => {
  const docker = new Docker();
  const provider = new DockerProvider(docker, { [HARNESS_LABEL]: STACK }, (_phase, work) => work());
  const deployed: ResourceState[] = [];
  let context: string;
  let base: string;

  /** The provider's Check, Create, then Read, as a state the engine would keep. */
  async function roundTrip(type: string, name: string, declared: Record<string, unknown>) {
    const inputs = provider.check(type, name, declared);
    const created = await provider.create(type, name, inputs);
    const state: ResourceState = {
      urn: `urn:pulumi:${STACK}::http-infra::${type}::${name}`,
      type,
      name,
      custom: true,
      id: created.id,
      inputs,
      outputs: created.outputs,
      parent: "",
      dependencies: [],
      propertyDependencies: {},
      deleteBeforeReplace: undefined,
    };
    deployed.unshift(state);
    const read = await provider.read(state);
    return { state, read: read! };
  }

  /** The next run's diff: the same inputs, checked again, against what Read reported. */
  const nextDiff = (
    type: string,
    name: string,
    declared: Record<string, unknown>,
    read: PropertyMap,
  ) => diffInputs(type, name, { ...read }, provider.check(type, name, declared));

  beforeAll(async () => {
    for (const candidate of BASES) {
      if (
        await docker
          .getImage(candidate)
          .inspect()
          .then(
            () => true,
            () => false,
          )
      ) {
        base = candidate;
        break;
      }
    }
    if (!base) throw new Error(`none of ${BASES.join(", ")}: run scripts/offline-base-images.sh`);
    context = mkdtempSync(path.join(tmpdir(), "round-trip-"));
    writeFileSync(
      path.join(context, "Dockerfile"),
      `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nHEALTHCHECK --interval=1s CMD true\n` +
        `CMD ["sleep", "infinity"]\n`,
    );
  });

  afterAll(async () => {
    for (const state of deployed) await provider.delete(state);
    rmSync(context, { recursive: true, force: true });
    const left = await docker.listNetworks({ filters: { label: [`${HARNESS_LABEL}=${STACK}`] } });
    expect(
      left.map((n) => n.Name),
      "nothing left",
    ).toEqual([]);
  }, 120_000);

  let network: Record<string, unknown>;
  let image: Record<string, unknown>;

  it("network: Read reports Docker's view (driver, scope, IPAM), and the same inputs again are no change", async () => {
    const networks = await docker.listNetworks();
    const subnet = chooseSubnet({
      configured: undefined,
      project: "http-infra",
      stack: STACK,
      networkName: `${PREFIX}-net`,
      networks: networks.map((n) => ({
        name: n.Name,
        subnets: (n.IPAM?.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : [])),
      })),
    });
    const gateway = subnet.replace(/\.0\/24$/, ".1");
    network = {
      name: `${PREFIX}-net`,
      driver: "bridge",
      ipamConfigs: [{ subnet, gateway, ipRange: subnet.replace(/\.0\/24$/, ".128/25") }],
      labels: [{ label: "http-infra.role", value: "network" }],
    };
    const { state, read } = await roundTrip(NETWORK, "network", network);
    expect(read).toEqual(state.outputs);
    expect(read.scope, "only Docker knows it").toBe("local");
    expect(nextDiff(NETWORK, "network", network, read)).toMatchObject({
      changedKeys: [],
      replaceKeys: [],
    });
  }, 60_000);

  it("image: Read returns what was passed, the same inputs again are no change", async () => {
    image = {
      imageName: `${PREFIX}-image:latest`,
      build: { context, dockerfile: path.join(context, "Dockerfile"), args: { BASE_IMAGE: base } },
      skipPush: true,
    };
    const { state, read } = await roundTrip(IMAGE, "image", image);
    expect(read).toEqual(state.outputs);
    expect(read.repoDigest, "the built image's id").toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(nextDiff(IMAGE, "image", image, read)).toMatchObject({ changedKeys: [] });
  }, 300_000);

  it("container: Read reports Docker's view (network data, the image's healthcheck, user), and the same inputs again are no change", async () => {
    const networkState = deployed.find((s) => s.name === "network")!;
    const imageState = deployed.find((s) => s.name === "image")!;
    const subnet = (networkState.inputs.ipamConfigs as { subnet: string }[])[0].subnet;
    const container = {
      name: `${PREFIX}-member`,
      image: imageState.outputs.repoDigest as string,
      hostname: `${PREFIX}-member`,
      envs: ["PORT=3000"],
      labels: [{ label: "http-infra.role", value: "member" }],
      networksAdvanced: [
        {
          name: networkState.outputs.name as string,
          ipv4Address: subnet.replace(/\.0\/24$/, ".3"),
        },
      ],
      restart: "unless-stopped",
      wait: true,
      waitTimeout: 60,
      destroyGraceSeconds: 10,
    };
    const { read: member } = await roundTrip(CONTAINER, "member", container);
    const read = member as {
      networkDatas: { ipAddress: string }[];
      healthcheck: { tests: string[] };
    };
    expect(read.networkDatas[0].ipAddress, "from Docker").toBe(subnet.replace(/\.0\/24$/, ".3"));
    expect(read.healthcheck.tests, "the image's HEALTHCHECK, read back").toEqual([
      "CMD-SHELL",
      "true",
    ]);
    expect(nextDiff(CONTAINER, "member", container, member)).toMatchObject({
      changedKeys: [],
      replaceKeys: [],
    });
  }, 120_000);
});
