// A stand-in for the Docker provider: a Pulumi mock `newResource` that creates every resource the
// program declares for real on a Docker engine, and returns the outputs the provider would. With it
// the real index.ts deploys as under `pulumi up`; `destroy()` removes everything as `pulumi destroy`
// would, then checks that nothing carrying the harness's label is left.
import type * as pulumi from "@pulumi/pulumi";
import Docker from "dockerode";
import { buildImage } from "./build";
import {
  createContainer,
  createNetwork,
  type ContainerInputs,
  type NetworkInputs,
} from "./containers";
import { assertImplemented, CONTAINER, IMAGE, NETWORK } from "./inputs";

/** Every object the harness creates carries this label, with the stack name as its value. */
export const HARNESS_LABEL = "http-infra.harness-stack";

type Created = { kind: "container" | "network"; id: string; name: string };

export interface Leftovers {
  containers: string[];
  networks: string[];
}

export class DockerHarness {
  readonly docker: Docker;
  /** Wall-clock seconds per phase (first start to last end), for the e2e timing report. */
  readonly timings: Record<string, number> = {};
  private readonly spans: Record<string, { start: number; end: number }> = {};
  private readonly created: Created[] = [];
  private readonly failures: Error[] = [];

  constructor(
    readonly stack: string,
    docker: Docker = new Docker(),
  ) {
    this.docker = docker;
  }

  private get labels() {
    return { [HARNESS_LABEL]: this.stack };
  }

  private async timed<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      // Resources are created in parallel: a phase lasts from its first start to its last end.
      const span = (this.spans[phase] ??= { start: started, end: started });
      span.end = Math.max(span.end, performance.now());
      this.timings[phase] = (span.end - span.start) / 1000;
    }
  }

  /** The first error any resource hit: the mock runtime would otherwise report it only vaguely. */
  get failure(): Error | undefined {
    return this.failures[0];
  }

  newResource = async (
    args: pulumi.runtime.MockResourceArgs,
  ): Promise<pulumi.runtime.MockResourceResult> => {
    // Component resources (the BackendPools) exist only in Pulumi's state, not on the engine.
    if (args.custom === false) return { id: undefined, state: {} };
    try {
      assertImplemented(args.type, args.name, args.inputs);
      switch (args.type) {
        case IMAGE:
          return await this.timed("build", () => this.image(args.inputs));
        case NETWORK:
          return await this.timed("deploy", () => this.network(args.inputs));
        case CONTAINER:
          return await this.timed("deploy", () => this.container(args.inputs));
        default:
          throw new Error(`harness: unexpected resource type ${args.type}`);
      }
    } catch (error) {
      const failure = new Error(`${args.type} ${args.name}: ${(error as Error).message}`);
      this.failures.push(failure);
      throw failure;
    }
  };

  private async image(inputs: Record<string, any>) {
    if (inputs.skipPush !== true) {
      throw new Error("harness: pushing images is not implemented; set skipPush: true");
    }
    const id = await buildImage(this.docker, {
      ...inputs.build,
      tag: inputs.imageName,
      labels: this.labels,
    });
    // The provider's repoDigest for a local-only image is the image id.
    return {
      id,
      state: {
        ...inputs,
        repoDigest: id,
        baseImageName: inputs.imageName,
        registryServer: "",
        context: inputs.build.context,
        dockerfile: inputs.build.dockerfile,
      },
    };
  }

  private async network(inputs: NetworkInputs) {
    const result = await createNetwork(this.docker, inputs, this.labels);
    this.created.push({ kind: "network", id: result.id, name: inputs.name });
    return result;
  }

  private async container(inputs: ContainerInputs) {
    try {
      const result = await createContainer(this.docker, inputs, this.labels);
      this.created.push({ kind: "container", id: result.id, name: inputs.name });
      return result;
    } catch (error) {
      // A container that failed to become healthy still exists: remember it so destroy finds it.
      const existing = await this.docker
        .getContainer(inputs.name)
        .inspect()
        .catch(() => undefined);
      if (existing) this.created.push({ kind: "container", id: existing.Id, name: inputs.name });
      throw error;
    }
  }

  /** Runs one container outside the program (e.g. a proxy with bad input), tracked like the rest. */
  async runContainer(inputs: ContainerInputs) {
    return this.container(inputs);
  }

  async leftovers(): Promise<Leftovers> {
    const filters = { label: [`${HARNESS_LABEL}=${this.stack}`] };
    const containers = await this.docker.listContainers({ all: true, filters });
    const networks = await this.docker.listNetworks({ filters });
    return {
      containers: containers.map((c) => c.Names[0]?.replace(/^\//, "") ?? c.Id),
      networks: networks.map((n) => n.Name),
    };
  }

  /**
   * `pulumi destroy`: containers first, newest first, then the network. Images stay, as with the
   * provider (its Image resource never deletes local images). Returns what is left: nothing.
   */
  async destroy(): Promise<Leftovers> {
    await this.timed("teardown", async () => {
      for (const object of [...this.created].reverse()) {
        if (object.kind === "container") {
          // As the provider does: a graceful stop (SIGTERM / Apache's SIGWINCH), then removal.
          const container = this.docker.getContainer(object.id);
          await container.stop({ t: 5 }).catch(ignoreStopped);
          await container.remove({ force: true, v: true }).catch(ignoreMissing);
        } else {
          await this.docker.getNetwork(object.id).remove().catch(ignoreMissing);
        }
      }
      this.created.length = 0;
    });
    return this.leftovers();
  }
}

function ignoreMissing(error: { statusCode?: number }) {
  if (error.statusCode !== 404) throw error;
}

/** 304: already stopped; 404: already gone. */
function ignoreStopped(error: { statusCode?: number }) {
  if (error.statusCode !== 304 && error.statusCode !== 404) throw error;
}
