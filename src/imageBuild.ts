// How the stack's three images are built, the same in both modes: from docker-images/*, each
// Dockerfile taking its base through the BASE_IMAGE build arg, so a registry mirror or the offline
// stand-ins (scripts/offline-base-images.sh) can replace the official bases.
import type * as docker from "@pulumi/docker";
import * as path from "node:path";

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
