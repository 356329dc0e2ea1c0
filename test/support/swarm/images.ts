// The test bed's own images (node, registry, probe), built on the host engine once and reused
// while neither their build context nor their base image changes.
import type Docker from "dockerode";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { buildImage } from "../harness/build";

const ROOT = path.join(__dirname, "..", "..", "..");
/** The offline Debian base (scripts/offline-base-images.sh), else the official image if present. */
const BASE_IMAGES = ["http-infra-base/debian:bookworm", "debian:bookworm"];
/** Label holding the hash of what the image was built from; a different hash means rebuild. */
const SOURCE_HASH_LABEL = "http-infra.swarm-testbed.source";

export const TESTBED_IMAGES = {
  node: { tag: "http-infra-swarm-node:latest", context: "scripts/swarm-node" },
  registry: { tag: "http-infra-swarm-registry:latest", context: "scripts/swarm-registry" },
  probe: { tag: "http-infra-swarm-probe:latest", context: "test/support/swarm/probe-image" },
} as const;

export type TestbedImage = keyof typeof TESTBED_IMAGES;

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? filesBelow(full) : [full];
    })
    .sort();
}

/** Hash of the context's files (names, modes, contents) and of the base image's id. */
function sourceHash(contextDir: string, baseImageId: string): string {
  const hash = createHash("sha256").update(baseImageId);
  for (const file of filesBelow(contextDir)) {
    hash.update(path.relative(contextDir, file)).update(String(statSync(file).mode));
    hash.update(readFileSync(file));
  }
  return hash.digest("hex").slice(0, 16);
}

async function firstPresent(docker: Docker, names: string[]) {
  for (const name of names) {
    const image = await docker
      .getImage(name)
      .inspect()
      .catch(() => undefined);
    if (image) return { name, id: image.Id };
  }
  throw new Error(
    `the swarm test bed builds on ${names.join(" or ")}, none of which is on this engine: ` +
      `run scripts/offline-base-images.sh`,
  );
}

/**
 * Makes sure the image exists for the current sources, building it only when they changed.
 * Returns whether it was built.
 */
export async function ensureTestbedImage(docker: Docker, which: TestbedImage): Promise<boolean> {
  const { tag, context } = TESTBED_IMAGES[which];
  const base = await firstPresent(docker, BASE_IMAGES);
  const wanted = sourceHash(path.join(ROOT, context), base.id);
  const existing = await docker
    .getImage(tag)
    .inspect()
    .catch(() => undefined);
  if (existing?.Config.Labels?.[SOURCE_HASH_LABEL] === wanted) return false;
  await buildImage(docker, {
    context: path.join(ROOT, context),
    args: { BASE_IMAGE: base.name },
    tag,
    labels: { [SOURCE_HASH_LABEL]: wanted },
  });
  return true;
}
