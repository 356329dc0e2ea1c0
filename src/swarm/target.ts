// Swarm mode: the stages of src/target.ts built as Swarm services.
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../settings";
import type { DeployTarget } from "../target";
import { swarmImages } from "./images";
import { ServicePool } from "./members";
import { overlayNetwork } from "./network";
import { proxyService } from "./proxy";
import { swarmPreflight } from "./preflight";

export function swarmTarget(settings: Settings): DeployTarget {
  // Asked once, before anything: the images and the network wait for it, and everything else
  // waits for them, so a swarm that can't run the stack gets nothing created on it. Its answer is
  // the nodes the proxy runs on.
  const proxyNodes = pulumi.output(swarmPreflight(settings.registry, settings.proxyNodeLabel));
  const ready = proxyNodes.apply(() => undefined);
  return {
    images: (names) => swarmImages(names, settings, ready),
    network: (names) => overlayNetwork(names, settings, ready),
    memberPool: (name, args) => new ServicePool(name, args),
    proxy: (args) => proxyService(args, proxyNodes),
  };
}
