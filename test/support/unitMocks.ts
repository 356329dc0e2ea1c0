// Canned provider outputs for unit tests: what @pulumi/docker returns after a real create, with
// values chosen so that wiring mistakes show (see the comments on each).
import type * as pulumi from "@pulumi/pulumi";

export interface UnitMocks {
  /** A plain function (it uses no `this`): tests hand it to runProgram on its own. */
  newResource: (
    args: pulumi.runtime.MockResourceArgs,
  ) => Promise<pulumi.runtime.MockResourceResult>;
  /** The IP the mocks gave each container (by container name) on the stack's network. */
  ipByContainer: Map<string, string>;
}

export interface UnitMockOptions {
  preview?: boolean;
  /**
   * Docker gives a container the `ipv4Address` it asks for on a network with a configured subnet
   * (moby daemon/network.go, buildCreateEndpointOptions: the endpoint's IPAMConfig becomes the
   * preferred address libnetwork's IPAM must hand out, or fail). Set false to hand out other
   * addresses anyway, to show the program reads addresses from the outputs, not from its inputs.
   */
  honourIpv4Address?: boolean;
}

/** The inputs these mocks read; the others pass through to the state as they are. */
interface ReadInputs {
  name: string;
  imageName: string;
  networksAdvanced?: { name: string; ipv4Address?: string }[];
  [key: string]: unknown;
}

export function unitMocks(options: UnitMockOptions = {}): UnitMocks {
  const ipByContainer = new Map<string, string>();
  let created = 0;

  return {
    ipByContainer,
    async newResource(args) {
      const inputs = args.inputs as ReadInputs;
      // In preview the provider knows only the inputs: every computed output stays unknown.
      if (options.preview || !args.custom) return { id: `${args.name}-id`, state: { ...inputs } };

      switch (args.type) {
        case "docker:index/image:Image":
          return {
            id: inputs.imageName,
            state: { ...inputs, repoDigest: `sha256:${args.name.padEnd(64, "0")}` },
          };
        case "docker:index/network:Network":
          return { id: `net-${inputs.name}`, state: { ...inputs, scope: "local" } };
        case "docker:index/container:Container": {
          created += 1;
          // Addresses go down as containers come up, so "member i got the i-th address" is never
          // true by accident, and the stack's network is listed second, after a decoy, so a
          // program that reads networkDatas[0] gets the wrong address.
          const requested = inputs.networksAdvanced?.[0]?.ipv4Address;
          const ip =
            requested && options.honourIpv4Address !== false
              ? requested
              : `10.10.0.${200 - created}`;
          ipByContainer.set(inputs.name, ip);
          return {
            id: `container-${inputs.name}`,
            state: {
              ...inputs,
              networkDatas: [
                { networkName: "bridge", ipAddress: `172.17.0.${created + 1}` },
                ...(inputs.networksAdvanced ?? []).map((network) => ({
                  networkName: network.name,
                  ipAddress: ip,
                })),
              ],
              exitCode: null,
            },
          };
        }
        case "docker:index/service:Service":
          // The provider reads the service back: its inputs, under the id Swarm gave it.
          return { id: `service-${inputs.name}`, state: { ...inputs } };
        case "docker:index/secret:Secret":
          return { id: `secret-${inputs.name}`, state: { ...inputs } };
        case "docker:index/volume:Volume":
          // resourceDockerVolumeCreate: the id is the volume's name; Read adds the mountpoint.
          return {
            id: inputs.name,
            state: {
              driver: "local",
              ...inputs,
              mountpoint: `/var/lib/docker/volumes/${inputs.name}/_data`,
            },
          };
        default:
          throw new Error(`unexpected resource type ${args.type} (${args.name})`);
      }
    },
  };
}
