// Single-host mode: the stages of src/target.ts built as containers on one Docker engine.
import type { DeployTarget } from "../target";
import { BackendPool } from "./backends";
import { buildImages } from "./images";
import { stackNetwork } from "./network";
import { proxyContainer } from "./proxy";

export const containersTarget: DeployTarget = {
  images: buildImages,
  network: stackNetwork,
  memberPool: (name, { network, environment, ...args }) =>
    new BackendPool(name, {
      ...args,
      networkName: network.name,
      envs: environment && Object.entries(environment).map(([key, value]) => `${key}=${value}`),
    }),
  proxy: ({ network, ...args }) => proxyContainer({ ...args, networkName: network.name }),
};
