// `docker build` through the Engine API, as the provider's Image resource does it: the context
// (minus .dockerignore) is sent as a tar stream with the Dockerfile path and build args.
import dockerignore from "@balena/dockerignore";
import type Docker from "dockerode";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-fs";

export interface BuildRequest {
  /** Build context directory, relative to the project root (the provider's `build.context`). */
  context: string;
  /** Dockerfile path, relative to the project root as the provider resolves it. */
  dockerfile?: string;
  args?: Record<string, string>;
  platform?: string;
  target?: string;
  tag: string;
  labels: Record<string, string>;
}

function contextStream(contextDir: string) {
  const ignoreFile = path.join(contextDir, ".dockerignore");
  const rules = existsSync(ignoreFile) ? readFileSync(ignoreFile, "utf8") : "";
  const ignore = dockerignore().add(rules);
  // tar-fs packs with streamx; Readable.from gives the Node stream dockerode pipes into the request.
  const pack = tar.pack(contextDir, {
    ignore: (file) => {
      const relative = path.relative(contextDir, file);
      // Docker always sends the Dockerfile and .dockerignore, whatever the rules say.
      if (relative === "Dockerfile" || relative === ".dockerignore") return false;
      return relative !== "" && ignore.ignores(relative);
    },
  });
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** Builds the image and returns its id (`sha256:…`); on failure the error carries the build log tail. */
export async function buildImage(docker: Docker, request: BuildRequest): Promise<string> {
  const contextDir = path.resolve(request.context);
  const dockerfile = path.relative(
    contextDir,
    path.resolve(request.dockerfile ?? path.join(request.context, "Dockerfile")),
  );
  if (dockerfile.startsWith("..")) {
    throw new Error(
      `harness: dockerfile ${request.dockerfile} lies outside its context ${request.context}`,
    );
  }
  const stream = await docker.buildImage(contextStream(contextDir), {
    t: request.tag,
    dockerfile,
    buildargs: request.args ?? {},
    labels: request.labels,
    platform: request.platform ?? "",
    target: request.target ?? "",
    rm: true,
    forcerm: true,
  });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err, events: { error?: string; errorDetail?: { message?: string } }[]) => {
        const failure = err?.message ?? events.find((event) => event.error)?.error;
        if (failure) {
          reject(
            new Error(
              `docker build of ${request.tag} failed: ${failure}\n${log.slice(-30).join("")}`,
            ),
          );
        } else resolve();
      },
      (event: { stream?: string }) => {
        if (event.stream) log.push(event.stream);
      },
    );
  });
  const image = await docker.getImage(request.tag).inspect();
  return image.Id;
}
