// A stand-in for `pulumi up` with the Docker provider: a Pulumi mock `newResource` that applies each
// registration of the real index.ts as the engine would (engine.ts: create, same, update, replace,
// delete, from the state the previous run left) and does the work for real on a Docker engine
// (dockerProvider.ts). `up()` runs the program again against the deployed state and returns the
// plan; `destroy()` removes everything as `pulumi destroy` would, then checks that nothing carrying
// the harness's label is left.
import type * as pulumi from "@pulumi/pulumi";
import Docker from "dockerode";
import {
  runProgram,
  type ProgramRun,
  type Registration,
  type RunProgramOptions,
} from "../pulumiProgram";
import type { ContainerInputs } from "./resources/container";
import { withDockerHost } from "./dockerHost";
import { DockerProvider } from "./dockerProvider";
import { UpdateEngine, type Plan } from "./engine";
import { contextResolver } from "./resources/image";
import { PROVIDER_WAITS, type ProviderWaits } from "./resources/types";

/** Every object the harness creates carries this label, with the stack name as its value. */
export const HARNESS_LABEL = "http-infra.harness-stack";

export interface Leftovers {
  containers: string[];
  networks: string[];
  /** On a swarm manager only, and only when some are left (so `toEqual` on the two above holds). */
  services?: string[];
  secrets?: string[];
  /** Only when some are left, like services and secrets. */
  volumes?: string[];
}

export class DockerHarness {
  readonly docker: Docker;
  /** Wall-clock seconds per phase (first start to last end), for the e2e timing report. */
  readonly timings: Record<string, number> = {};
  /** The plan of every finished run, first deploy first. */
  readonly plans: Plan[] = [];
  private readonly spans: Record<string, { start: number; end: number }> = {};
  private readonly failures: Error[] = [];
  private readonly provider: DockerProvider;
  private readonly engine: UpdateEngine;
  private running = false;

  constructor(
    readonly stack: string,
    docker: Docker = new Docker(),
    /** The provider's fixed waits, shortened by a test that says so (resources/types.ts). */
    waits: Partial<ProviderWaits> = {},
    /**
     * The engine's address as DOCKER_HOST spells it (e.g. a swarm manager's
     * tcp://127.0.0.1:<port>), set while the program runs so that its own engine queries reach the
     * same engine.
     */
    readonly dockerHost?: string,
  ) {
    this.docker = docker;
    this.provider = new DockerProvider(
      docker,
      { [HARNESS_LABEL]: stack },
      (phase, work) => this.timed(phase, work),
      undefined,
      { ...PROVIDER_WAITS, ...waits },
    );
    this.engine = new UpdateEngine(this.provider);
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

  /** The deployed state, per URN, as the engine keeps it between runs. */
  get state() {
    return this.engine.resources;
  }

  /**
   * The mock runtime's newResource. Called outside `up()` (deployStack, the first deploy), it opens
   * a run that the next `up()` or `destroy()` closes.
   */
  newResource = async (
    args: pulumi.runtime.MockResourceArgs,
    registration: Registration,
  ): Promise<pulumi.runtime.MockResourceResult> => {
    if (!this.running) {
      this.engine.beginRun();
      this.running = true;
    }
    try {
      const { id, outputs } = await this.engine.register(args, registration);
      return { id, state: outputs };
    } catch (error) {
      const failure = new Error(`${args.type} ${args.name}: ${(error as Error).message}`);
      this.failures.push(failure);
      throw failure;
    }
  };

  private async closeRun(): Promise<Plan | undefined> {
    if (!this.running) return undefined;
    this.running = false;
    const plan = await this.engine.finishRun();
    this.plans.push(plan);
    return plan;
  }

  /**
   * `pulumi up` on the deployed stack: runs the program with this config, applies it as the engine
   * would, deletes what it no longer declares, and returns the plan.
   */
  async up(
    options: Omit<RunProgramOptions, "newResource"> & {
      /** Build contexts read from other directories this run: an edit without touching the repo. */
      contextOverrides?: Record<string, string>;
      /** `pulumi up --refresh`: read every resource back from Docker first (refresh()). */
      refresh?: boolean;
    },
  ): Promise<{ run: ProgramRun; plan: Plan }> {
    await this.closeRun();
    if (options.refresh) await this.refresh();
    this.provider.resolveContext = contextResolver(options.contextOverrides);
    this.failures.length = 0;
    // A preview plans with the provider's `preview`, which the Docker provider does not model:
    // the engine then refuses, naming it, instead of deploying for real.
    this.engine.beginRun({ dryRun: options.preview ?? false });
    this.running = true;
    let run: ProgramRun;
    try {
      const { contextOverrides: _overrides, refresh: _refresh, ...programOptions } = options;
      run = await withDockerHost(this.dockerHost, () =>
        runProgram({ ...programOptions, newResource: this.newResource }),
      );
    } catch (error) {
      this.running = false;
      this.engine.abortRun();
      throw this.failure ?? error;
    }
    const plan = (await this.closeRun())!;
    return { run, plan };
  }

  /**
   * `pulumi refresh`: the provider's Read of every resource in the state (UpdateEngine.refresh):
   * outputs as Docker reports them now; what is gone leaves the state.
   */
  async refresh(): Promise<{ changed: string[]; gone: string[] }> {
    await this.closeRun();
    return this.engine.refresh();
  }

  /** Runs one container outside the program (e.g. a proxy with bad input), tracked like the rest. */
  async runContainer(inputs: ContainerInputs) {
    const { id, outputs } = await this.provider.container(inputs);
    return { id, state: outputs };
  }

  async leftovers(): Promise<Leftovers> {
    const filters = { label: [`${HARNESS_LABEL}=${this.stack}`] };
    const containers = await this.docker.listContainers({ all: true, filters });
    const networks = await this.docker.listNetworks({ filters });
    // A plain engine (no swarm) answers 503 to these: it can hold no service or secret.
    const notSwarm = () => [];
    const services = await this.docker.listServices({ filters }).catch(notSwarm);
    const secrets = await this.docker.listSecrets({ filters }).catch(notSwarm);
    const volumes = ((await this.docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name);
    return {
      containers: containers.map((c) => c.Names[0]?.replace(/^\//, "") ?? c.Id),
      networks: networks.map((n) => n.Name),
      ...(services.length > 0 && { services: services.map((s) => s.Spec?.Name ?? s.ID) }),
      ...(secrets.length > 0 && { secrets: secrets.map((s) => s.Spec?.Name ?? s.ID) }),
      ...(volumes.length > 0 && { volumes }),
    };
  }

  /**
   * `pulumi destroy`: every resource in the state, dependents first (containers, then the
   * network). Images stay, as with the provider (its Image resource never deletes local images).
   * Then anything the provider made outside the state (runContainer, a container that failed its
   * healthcheck) goes too. Returns what is left: nothing.
   */
  async destroy(): Promise<Leftovers> {
    if (this.running) {
      this.running = false;
      // A deploy that failed part-way: keep what it made in the state, then destroy that.
      this.engine.abortRun();
    }
    await this.timed("teardown", async () => {
      this.plans.push(await this.engine.destroy());
      for (const object of [...this.provider.created].reverse()) {
        if (object.kind === "container") await this.provider.removeContainer(object.id, 5);
        else if (object.kind === "service") await this.provider.removeService(object.id);
        else if (object.kind === "secret") await this.provider.removeSecret(object.id);
        else if (object.kind === "volume") await this.provider.removeVolume(object.id);
        else await this.provider.removeNetwork(object.id);
      }
    });
    return this.leftovers();
  }
}
