// Where the stack runs, picked by the `deployTarget` setting. Both targets implement the same
// stages (src/target.ts), so index.ts reads the same whichever this picks:
//   containers: containers on one Docker engine (src/containers/*);
//   swarm:      services on a Docker Swarm (src/swarm/*).
import { containersTarget } from "./containers/target";
import type { Settings } from "./settings";
import { swarmTarget } from "./swarm/target";
import type { DeployTarget } from "./target";

export function deployTarget(settings: Settings): DeployTarget {
  return settings.deployTarget === "swarm" ? swarmTarget(settings) : containersTarget;
}
