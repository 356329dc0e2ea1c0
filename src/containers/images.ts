// Single-host mode's images, built locally (never pushed: the stack runs on the engine that builds
// them).
import * as docker from "@pulumi/docker";
import { imageBuild, type StackImages } from "../imageBuild";
import type { StackNames } from "../naming";
import type { Settings } from "../settings";

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
