// The provider half of the harness: creates, updates and deletes the program's resources on a real
// Docker engine (dockerode), the way pulumi-docker (Image) and kreuzwerker/terraform-provider-docker
// (Container, Network, bridged by pulumi-docker) do. The engine half (engine.ts) decides which.
import type Docker from "dockerode";
import { buildImage } from "./build";
import {
  createContainer,
  createNetwork,
  type ContainerInputs,
  type NetworkInputs,
} from "./containers";
import type { Provider, ResourceState } from "./engine";
import { assertImplemented, CONTAINER, IMAGE, NETWORK } from "./inputs";
import { changeRules, checkImageInputs, type ContextResolver, type InputDiff } from "./updateRules";

export type Created = { kind: "container" | "network"; id: string; name: string };

export class DockerProvider implements Provider {
  /** Every engine object this provider made and has not deleted yet, oldest first. */
  readonly created: Created[] = [];

  constructor(
    private readonly docker: Docker,
    private readonly labels: Record<string, string>,
    private readonly timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>,
    /** Where each build context is read from (tests point one at an edited copy). */
    public resolveContext: ContextResolver = (p) => p,
  ) {}

  check(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    assertImplemented(type, name, inputs);
    return type === IMAGE ? checkImageInputs(inputs, this.resolveContext) : inputs;
  }

  async create(type: string, _name: string, inputs: Record<string, any>) {
    switch (type) {
      case IMAGE:
        return this.timed("build", () => this.build(inputs));
      case NETWORK:
        return this.timed("deploy", () => this.network(inputs as NetworkInputs));
      case CONTAINER:
        return this.timed("deploy", () => this.container(inputs as ContainerInputs));
      default:
        throw new Error(`harness: unexpected resource type ${type}`);
    }
  }

  async update(
    old: ResourceState,
    inputs: Record<string, any>,
    diff: InputDiff,
  ): Promise<Record<string, any>> {
    if (old.type === IMAGE) {
      // pulumi-docker provider/provider.go `Update`: dockerBuild again, new outputs, same id.
      return (await this.timed("build", () => this.build(inputs))).outputs;
    }
    if (old.type !== CONTAINER) {
      throw new Error(`harness: ${old.type} ${old.name} has no in-place update`);
    }
    const container = this.docker.getContainer(old.id!);
    for (const key of diff.changedKeys) {
      switch (changeRules[CONTAINER].properties[key]) {
        case "container-update":
          // resourceDockerContainerUpdate: one ContainerUpdate with the restart policy (and the
          // resource limits, which the harness does not implement).
          await container.update({ RestartPolicy: { Name: inputs.restart ?? "no" } });
          break;
        case "must-run":
          // resourceDockerContainerUpdate: must_run false → true starts the container.
          if (old.inputs.mustRun === false && inputs.mustRun !== false && inputs.start !== false) {
            await container.start().catch(ignoreNotModified);
          }
          break;
        case "state-only":
          break;
        default:
          throw new Error(`harness: ${old.name}: "${key}" is not an in-place update`);
      }
    }
    // The bridge reads the resource back after Update; the computed outputs are unchanged.
    return { ...old.outputs, ...inputs };
  }

  async delete(state: ResourceState): Promise<void> {
    switch (state.type) {
      case IMAGE:
        // pulumi-docker provider/provider.go `Delete` returns at once: the image stays in the
        // local store (Docker's build cache for the next build).
        return;
      case NETWORK:
        await this.timed("teardown", () => this.removeNetwork(state.id!));
        return;
      case CONTAINER:
        await this.timed("teardown", () =>
          this.removeContainer(state.id!, state.inputs.destroyGraceSeconds),
        );
        return;
      default:
        throw new Error(`harness: unexpected resource type ${state.type}`);
    }
  }

  private async build(inputs: Record<string, any>) {
    if (inputs.skipPush !== true) {
      throw new Error("harness: pushing images is not implemented; set skipPush: true");
    }
    const { contextDigest: _digest, ...build } = inputs.build;
    const id = await buildImage(this.docker, {
      ...build,
      context: this.resolveContext(build.context),
      dockerfile: build.dockerfile && this.resolveContext(build.dockerfile),
      tag: inputs.imageName,
      labels: this.labels,
    });
    // The provider's repoDigest for a local-only image is the image id.
    return {
      id,
      outputs: {
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
    return { id: result.id, outputs: result.state };
  }

  async container(inputs: ContainerInputs) {
    try {
      const result = await createContainer(this.docker, inputs, this.labels);
      this.created.push({ kind: "container", id: result.id, name: inputs.name });
      return { id: result.id as string, outputs: result.state as Record<string, any> };
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

  /**
   * resourceDockerContainerDelete: ContainerStop with `destroy_grace_seconds` as the timeout (0
   * when unset: the stop signal, then SIGKILL at once), ContainerRemove with force, then wait
   * until it no longer runs.
   */
  async removeContainer(id: string, graceSeconds: number | undefined) {
    const container = this.docker.getContainer(id);
    await container.stop({ t: graceSeconds ?? 0 }).catch(ignoreStopped);
    await container.remove({ force: true, v: true }).catch(ignoreMissing);
    this.forget(id);
  }

  /** resourceDockerNetworkDelete: NetworkRemove. */
  async removeNetwork(id: string) {
    await this.docker.getNetwork(id).remove().catch(ignoreMissing);
    this.forget(id);
  }

  private forget(id: string) {
    const at = this.created.findIndex((object) => object.id === id);
    if (at >= 0) this.created.splice(at, 1);
  }
}

function ignoreMissing(error: { statusCode?: number }) {
  if (error.statusCode !== 404) throw error;
}

/** 304: already stopped; 404: already gone. */
function ignoreStopped(error: { statusCode?: number }) {
  if (error.statusCode !== 304 && error.statusCode !== 404) throw error;
}

function ignoreNotModified(error: { statusCode?: number }) {
  if (error.statusCode !== 304) throw error;
}
