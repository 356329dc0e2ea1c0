// The three images, built locally from docker-images/* (never pushed: the stack runs on the engine
// that builds it). Each Dockerfile takes its base through the BASE_IMAGE build arg, so a registry
// mirror or the offline stand-ins (scripts/offline-base-images.sh) can replace the official bases.
import * as docker from "@pulumi/docker";
import * as path from "node:path";
import type { StackNames } from "./naming";
import type { Settings } from "./settings";

export interface StackImages {
  static: docker.Image;
  dynamic: docker.Image;
  proxy: docker.Image;
}

/** Where each image's build context lives, relative to the project root. */
export const imageContexts = {
  static: "docker-images/apache-php-image",
  dynamic: "docker-images/express-image",
  proxy: "docker-images/apache-reverse-proxy",
} as const;

/** The build of one image: its context under docker-images/, its base through BASE_IMAGE. */
export function imageBuild(kind: keyof StackImages, baseImage: string) {
  const context = imageContexts[kind];
  return {
    context,
    // The provider resolves `dockerfile` against the project directory, not the context.
    dockerfile: path.posix.join(context, "Dockerfile"),
    args: { BASE_IMAGE: baseImage },
  };
}

function localImage(kind: keyof StackImages, names: StackNames, baseImage: string): docker.Image {
  return new docker.Image(`${kind}-image`, {
    imageName: names.image(kind),
    build: imageBuild(kind, baseImage),
    skipPush: true,
    // Build during `pulumi preview` too, so a broken Dockerfile fails the preview check in CI.
    buildOnPreview: true,
  });
}

export function buildImages(names: StackNames, settings: Settings): StackImages {
  return {
    static: localImage("static", names, settings.staticBaseImage),
    dynamic: localImage("dynamic", names, settings.dynamicBaseImage),
    proxy: localImage("proxy", names, settings.proxyBaseImage),
  };
}
