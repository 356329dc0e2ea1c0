// The provider half of the harness on a real Docker engine (dockerode): it hands each call to the
// resource type's module (resources/<type>.ts), which does what pulumi-docker (Image) or
// kreuzwerker/terraform-provider-docker (Container, Network, bridged by pulumi-docker) does. The
// engine half (engine.ts) decides which call to make.
import type Docker from "dockerode";
import type { Provider, ResourceState } from "./engine";
import { assertImplemented } from "./inputs";
import { resourceModule } from "./resources";
import { removeContainer, runContainer, type ContainerInputs } from "./resources/container";
import type { ContextResolver } from "./resources/image";
import { removeNetwork } from "./resources/network";
import { removeSecret } from "./resources/secret";
import { removeService } from "./resources/service";
import { removeVolume } from "./resources/volume";
import {
  PROVIDER_WAITS,
  type Created,
  type DockerContext,
  type ProviderWaits,
} from "./resources/types";
import type { InputDiff } from "./updateRules";
import type { PropertyMap } from "./propertyMap";

export type { Created } from "./resources/types";

export class DockerProvider implements Provider {
  /** Every engine object this provider made and has not deleted yet, oldest first. */
  readonly created: Created[] = [];
  private readonly context: DockerContext;

  constructor(
    docker: Docker,
    labels: Record<string, string>,
    timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>,
    /** Where each build context is read from (tests point one at an edited copy). */
    public resolveContext: ContextResolver = (p) => p,
    /** The provider's fixed waits; a test may shorten them, saying so. */
    readonly waits: ProviderWaits = PROVIDER_WAITS,
  ) {
    this.context = {
      docker,
      labels,
      timed,
      waits,
      // Looked up per call: a test may point the provider at another resolver later.
      resolveContext: (projectPath) => this.resolveContext(projectPath),
      track: (object) => this.created.push(object),
      forget: (id) => {
        const at = this.created.findIndex((object) => object.id === id);
        if (at >= 0) this.created.splice(at, 1);
      },
    };
  }

  check(type: string, name: string, inputs: PropertyMap): PropertyMap {
    assertImplemented(type, name, inputs);
    const module = resourceModule(type, name);
    return module.check ? module.check(inputs, this.resolveContext) : inputs;
  }

  create(type: string, name: string, inputs: PropertyMap) {
    return resourceModule(type, name).docker.create(this.context, inputs);
  }

  update(old: ResourceState, inputs: PropertyMap, diff: InputDiff) {
    return resourceModule(old.type, old.name).docker.update(this.context, old, inputs, diff);
  }

  delete(state: ResourceState): Promise<void> {
    return resourceModule(state.type, state.name).docker.delete(this.context, state);
  }

  read(state: ResourceState) {
    return resourceModule(state.type, state.name).docker.read(this.context, state);
  }

  /** A container outside the program (DockerHarness.runContainer), tracked like the rest. */
  container(inputs: ContainerInputs) {
    return runContainer(this.context, inputs);
  }

  removeContainer(id: string, graceSeconds: number | undefined) {
    return removeContainer(this.context, id, graceSeconds);
  }

  removeNetwork(id: string) {
    return removeNetwork(this.context, id);
  }

  removeService(id: string) {
    return removeService(this.context, id);
  }

  removeSecret(id: string) {
    return removeSecret(this.context, id);
  }

  removeVolume(id: string) {
    return removeVolume(this.context, id);
  }
}
