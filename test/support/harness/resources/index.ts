// The resource types the harness models, by type token. Adding a type (docker.Service,
// docker.Secret, docker.Volume, …) means adding its module here; nothing else branches on the type.
import { container } from "./container";
import { image } from "./image";
import { network } from "./network";
import { secret } from "./secret";
import { service } from "./service";
import type { ResourceModule } from "./types";
import { volume } from "./volume";

const modules: readonly ResourceModule[] = [image, network, container, service, secret, volume];

const byType = new Map(modules.map((module) => [module.type, module]));

/** The module for a type token, or undefined when the harness does not model that type. */
export function findResourceModule(type: string): ResourceModule | undefined {
  return byType.get(type);
}

/** The module for a type token; throws, naming the type and resource, when there is none. */
export function resourceModule(type: string, name: string): ResourceModule {
  const module = byType.get(type);
  if (!module) throw new Error(`harness: resource type ${type} (${name}) is not implemented`);
  return module;
}

export type { ResourceModule } from "./types";
