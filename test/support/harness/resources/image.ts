// docker.Image: native to pulumi-docker (provider/provider.go `dockerNativeProvider`, image.go),
// not bridged: `Check` adds `build.contextDigest`, `Diff` compares old and new inputs and never
// asks for a replacement, `Update` builds again, `Delete` leaves the local image alone.
import dockerignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import * as path from "node:path";
import { buildImage } from "../build";
import type { DockerContext, ResourceModule } from "./types";
import type { PropertyMap } from "../propertyMap";

export const IMAGE = "docker:index/image:Image";

/**
 * Where the build reads a context path from. Tests redirect a context to an edited copy (the way a
 * user edits the landing page in place) without touching the repository.
 */
export type ContextResolver = (projectPath: string) => string;

/** Redirects each context directory (and files under it) to another directory. */
export function contextResolver(overrides: Record<string, string> = {}): ContextResolver {
  return (projectPath) => {
    const normalized = path.posix.normalize(projectPath);
    for (const [context, directory] of Object.entries(overrides)) {
      const prefix = path.posix.normalize(context);
      if (normalized === prefix) return directory;
      if (normalized.startsWith(`${prefix}/`)) {
        return path.join(directory, normalized.slice(prefix.length + 1));
      }
    }
    return projectPath;
  };
}

/**
 * The digest pulumi-docker's `Check` adds to an Image's `build` (provider/provider.go
 * `hashContext`): the Dockerfile's content under the name "Dockerfile", then every file of the
 * context not excluded by .dockerignore, in lexical order, as its relative path, mode and content
 * hash (symlinks: their target path). The exact bytes differ from the provider's (Go's mode
 * strings); what matters here is the same thing: it changes exactly when the context does.
 */
export function contextDigest(context: string, dockerfile: string): string {
  const root = path.resolve(context);
  const accumulator = createHash("sha256");
  const add = (relative: string, mode: string, content: Buffer | string) => {
    accumulator.update(relative);
    accumulator.update(mode);
    accumulator.update(createHash("sha256").update(content).digest());
    accumulator.update("\0");
  };
  add("Dockerfile", "", readFileSync(path.resolve(dockerfile)));

  // getIgnorePatterns: <Dockerfile>.dockerignore first, else the context's .dockerignore.
  const ignoreFile = [
    `${path.resolve(dockerfile)}.dockerignore`,
    path.join(root, ".dockerignore"),
  ].find((candidate) => existsSync(candidate));
  const ignore = dockerignore().add(ignoreFile ? readFileSync(ignoreFile, "utf8") : "");
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory).sort()) {
      const full = path.join(directory, entry);
      const relative = path.relative(root, full).split(path.sep).join("/");
      if (ignore.ignores(relative)) continue;
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isSymbolicLink()) add(relative, stat.mode.toString(8), readlinkSync(full));
      else if (stat.isFile()) add(relative, stat.mode.toString(8), readFileSync(full));
    }
  };
  walk(root);
  return accumulator.digest("hex");
}

/** The Image inputs this module reads (pulumi-docker's schema: `imageName`, `skipPush`, `build`). */
interface ImageInputs {
  imageName: string;
  skipPush?: boolean;
  build?: {
    context?: string;
    dockerfile?: string;
    args?: Record<string, string>;
    target?: string;
    platform?: string;
    /** Added by Check (checkImageInputs). */
    contextDigest?: string;
  };
}

/**
 * pulumi-docker's `Check` for an Image (provider/provider.go `dockerNativeProvider.Check`): the
 * inputs the engine stores and diffs, with `build.contextDigest` added.
 */
export function checkImageInputs(
  inputs: PropertyMap,
  resolve: ContextResolver = (p) => p,
): PropertyMap {
  const build = (inputs as ImageInputs).build ?? {};
  const context = build.context ?? ".";
  const dockerfile = build.dockerfile ?? path.join(context, "Dockerfile");
  const digest = contextDigest(resolve(context), resolve(dockerfile));
  return { ...inputs, build: { ...build, contextDigest: digest } };
}

/**
 * image.go after the build, when skipPush is false: ImagePush of the image name, and repoDigest is
 * `<name without tag>@<digest>` from the push's aux message (parseRepoDigestFromAux). The
 * harness pushes without credentials (a local registry); a `registry` input would throw earlier.
 */
async function push(context: DockerContext, imageName: string): Promise<string> {
  // image.go sends RegistryAuth with every push (an empty AuthConfig here); without the header the
  // engine answers 400.
  const stream = await context.docker.getImage(imageName).push({ authconfig: {} });
  const digest = await new Promise<string | undefined>((resolve, reject) => {
    let found: string | undefined;
    context.docker.modem.followProgress(
      stream,
      (err: Error | null, events: { error?: string }[]) => {
        const failure = err?.message ?? events.find((event) => event.error)?.error;
        if (failure) reject(new Error(`docker push of ${imageName} failed: ${failure}`));
        else resolve(found);
      },
      (event: { aux?: { Digest?: string } }) => {
        if (event.aux?.Digest) found = event.aux.Digest;
      },
    );
  });
  // Without an aux digest the provider falls back to the local RepoDigests (getRepoDigest); the
  // registry this harness pushes to always sends one.
  if (!digest) throw new Error(`harness: the push of ${imageName} reported no digest`);
  // reference.TrimNamed: the name without its tag.
  const repository = imageName.replace(/:[^:/]+$/, "");
  return `${repository}@${digest}`;
}

async function build(context: DockerContext, inputs: PropertyMap) {
  const { imageName, skipPush, build = {} } = inputs as ImageInputs;
  const { contextDigest: _digest, ...request } = build;
  const id = await buildImage(context.docker, {
    ...request,
    context: context.resolveContext(request.context ?? "."),
    dockerfile: request.dockerfile && context.resolveContext(request.dockerfile),
    tag: imageName,
    labels: context.labels,
  });
  // provider/image.go `dockerBuild`: with skipPush, "We set repoDigest to the image ID returned
  // from docker inspect"; after a push, the digest the registry reported (push()).
  const repoDigest = skipPush === true ? id : await push(context, imageName);
  return {
    id,
    outputs: {
      ...inputs,
      repoDigest,
      baseImageName: imageName,
      registryServer: "",
      context: build.context,
      dockerfile: build.dockerfile,
    },
  };
}

/**
 * A stand-in for the image id the Docker build would give: with skipPush the provider's
 * repoDigest is the local image id (provider/image.go `dockerBuild`), and Docker derives an image
 * id from what was built (the config and layers: the base, the Dockerfile's steps, the context's
 * files, the build args), so a rebuild of the same content (a fully cached build) yields the same
 * id, whatever changed besides it (the tag, the paths the context and Dockerfile are named by,
 * skipPush, buildOnPreview). The memory model hashes exactly that content: `contextDigest`
 * (the Dockerfile and the context, from Check), the args, the target and the platform.
 */
export function memoryImageId(inputs: PropertyMap): string {
  const { contextDigest: content, args, target, platform } = (inputs as ImageInputs).build ?? {};
  const sortedArgs = Object.entries(args ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const built = JSON.stringify({ content, args: sortedArgs, target, platform });
  return `sha256:${createHash("sha256").update(built).digest("hex")}`;
}

export const image: ResourceModule = {
  type: IMAGE,
  inputs: {
    imageName: true,
    skipPush: true,
    buildOnPreview: true,
    build: { context: true, dockerfile: true, args: true, platform: true, target: true },
  },
  // provider/provider.go `Diff` + `diffUpdates`: every changed key is an UPDATE, never a
  // replacement, and `Update` runs dockerBuild again. `build` includes the contextDigest that
  // `Check` computed, so an edited context is a changed `build`.
  rules: {
    properties: {
      imageName: "rebuild",
      skipPush: "rebuild",
      buildOnPreview: "rebuild",
      build: "rebuild",
    },
    computed: new Set(),
    sets: new Set(),
    deleteBeforeReplace: () => false,
    // dockerNativeProvider.Diff compares the news with the old *inputs* it keeps under `__inputs`
    // in the state (provider/provider.go `parseCheckpointObject`).
    diffBasis: "inputs",
  },
  check: checkImageInputs,
  docker: {
    // dockerNativeProvider.Read: "Return properties as passed, since we do no reconciliation".
    read: async (_context, state) => state.outputs,
    create: (context, inputs) => context.timed("build", () => build(context, inputs)),
    // provider/provider.go `Update`: dockerBuild again, new outputs, same id.
    update: async (context, _old, inputs) =>
      (await context.timed("build", () => build(context, inputs))).outputs,
    // provider/provider.go `Delete` returns at once: the image stays in the local store (Docker's
    // build cache for the next build).
    delete: async () => undefined,
  },
  memory: {
    uniqueName: false,
    create: (_context, inputs) => ({ ...inputs, repoDigest: memoryImageId(inputs) }),
    update: (_old, inputs) => ({ ...inputs, repoDigest: memoryImageId(inputs) }),
    // provider/provider.go `canPreview`: with buildOnPreview the image is built during preview,
    // and image.go reports the image id as repoDigest "if img.SkipPush || isPreview"; without it
    // Update answers the inputs alone, repoDigest unknown.
    preview: (_context, _operation, inputs) =>
      inputs.buildOnPreview === true ? { ...inputs, repoDigest: memoryImageId(inputs) } : inputs,
  },
};
