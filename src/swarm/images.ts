// Swarm mode's images: built as in single-host mode, and pushed to `registry` when it is set so
// that every node can pull them. The services take `repoDigest` (registry/name@sha256:…, pinned to
// what was pushed), so a rebuilt image rolls its services, where a tag would leave them as they are.
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { imageBuild, type StackImages } from "../imageBuild";
import type { StackNames } from "../naming";
import type { Settings } from "../settings";

/** The image's name: under the registry when there is one, the local name otherwise. */
export function swarmImageName(
  kind: keyof StackImages,
  names: StackNames,
  registry: string | undefined,
): string {
  return registry === undefined ? names.image(kind) : `${registry}/${names.image(kind)}`;
}

export function swarmImages(
  names: StackNames,
  settings: Settings,
  /** The swarm check: no image is built for a swarm that can't run it. */
  ready: pulumi.Output<void>,
): StackImages {
  const image = (kind: keyof StackImages, baseImage: string) =>
    new docker.Image(`${kind}-image`, {
      imageName: ready.apply(() => swarmImageName(kind, names, settings.registry)),
      build: imageBuild(kind, baseImage),
      // Without a registry the one node runs the image from its own store (checkSwarmNodes).
      skipPush: settings.registry === undefined,
      buildOnPreview: true,
    });
  return {
    static: image("static", settings.staticBaseImage),
    dynamic: image("dynamic", settings.dynamicBaseImage),
    proxy: image("proxy", settings.proxyBaseImage),
  };
}
