// Swarm mode: the same stages as single-host mode, built as Swarm services (see src/deployTarget.ts).
import * as pulumi from "@pulumi/pulumi";
import type { DeployTarget } from "../deployTarget";
import type { Settings } from "../settings";
import { swarmImages } from "./images";
import { ServicePool } from "./members";
import { overlayNetwork } from "./network";
import { proxyService } from "./proxy";
import { swarmPreflight } from "./preflight";

export function swarmTarget(settings: Settings): DeployTarget {
  // Asked once, before anything: the images and the network wait for it, and everything else
  // waits for them, so a swarm that can't run the stack gets nothing created on it.
  const ready = pulumi.output(swarmPreflight(settings.registry));
  return {
    images: (names) => swarmImages(names, settings, ready),
    network: (names) => overlayNetwork(names, settings, ready),
    memberPool: (name, args) => new ServicePool(name, args),
    proxy: proxyService,
  };
}
