// A variant of the proxy image for the benches that compare proxy settings side by side: the
// image's build context copied to a fresh temporary directory, edited there (never in the
// repository), built, and the copy removed.
import type Docker from "dockerode";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage } from "../../test/support/harness/build";

const PROXY_CONTEXT = "docker-images/apache-reverse-proxy";

/** Builds the proxy image with `edits` applied to a copy of its context; returns the image id. */
export async function buildProxyVariant(
  docker: Docker,
  options: { tag: string; baseImage: string; edits: readonly ((dir: string) => void)[] },
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "http-infra-proxy-variant-"));
  try {
    cpSync(PROXY_CONTEXT, dir, { recursive: true });
    for (const edit of options.edits) edit(dir);
    return await buildImage(docker, {
      context: dir,
      tag: options.tag,
      args: { BASE_IMAGE: options.baseImage },
      labels: {},
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
