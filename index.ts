// An Apache reverse proxy (mod_proxy_balancer) in front of static Apache/PHP backends (round-robin)
// and dynamic Express backends (sticky on ROUTEID), on a private Docker network.
//
// Read top to bottom, this file is the data flow:
//   config ─► settings ─► images ─► network ─► backends ─► their IPs ─► proxy env ─► proxy ─► outputs
import * as pulumi from "@pulumi/pulumi";
import { BackendPool } from "./src/backends";
import { buildImages } from "./src/images";
import { stackNames } from "./src/naming";
import { stackNetwork } from "./src/network";
import { MINIMUM_PULUMI_VERSION, proxyContainer } from "./src/proxy";
import { proxyUrl } from "./src/proxyEnvironment";
import { isSecretConfig } from "./src/secretConfig";
import { validateSettings } from "./src/settings";

// The proxy's rolling-update options (src/proxy.ts) need an engine that honours them: ignoreChanges
// in calculateDependentReplacements (v3.163.0), replacementTrigger (v3.208.0), compared unwrapped
// of outputs (v3.226.0). An older CLI fails the run here instead of quietly ignoring them.
const engineSupported = pulumi.output(pulumi.requirePulumiVersion(`>=${MINIMUM_PULUMI_VERSION}`));

// Config is read once and validated before any resource exists: bad input stops here, naming the key.
const config = new pulumi.Config();
const settings = validateSettings({
  staticBackends: config.getNumber("staticBackends"),
  dynamicBackends: config.getNumber("dynamicBackends"),
  proxyPort: config.getNumber("proxyPort"),
  proxyBindAddress: config.get("proxyBindAddress"),
  serverName: config.get("serverName"),
  networkSubnet: config.get("networkSubnet"),
  staticBaseImage: config.get("staticBaseImage"),
  dynamicBaseImage: config.get("dynamicBaseImage"),
  proxyBaseImage: config.get("proxyBaseImage"),
  balancerManagerUser: config.get("balancerManagerUser"),
  // Validation needs the plain value; it leaves this process only re-wrapped as a secret (below).
  balancerManagerPassword: config.get("balancerManagerPassword"),
  balancerManagerPasswordIsSecret: isSecretConfig("balancerManagerPassword"),
});
const names = stackNames(pulumi.getProject(), pulumi.getStack());

// The three images, built on the local engine from docker-images/*.
const images = buildImages(names, settings);

// A user-defined bridge with an explicit subnet (networkSubnet, or a free one the program picks):
// every container gets a fixed address on it, so a reboot can't shuffle them (src/addressing.ts).
const { network, subnet } = stackNetwork(names, settings);

// The backends, published on no host port. `repoDigest` is the local image id: a rebuilt image
// replaces its containers, where a tag name would leave them on the old image.
const staticPool = new BackendPool("static", {
  role: "static",
  count: settings.staticBackends,
  image: images.static.repoDigest,
  networkName: network.name,
  subnet,
  port: 80, // Apache in docker-images/apache-php-image
  names,
});
const dynamicPool = new BackendPool("dynamic", {
  role: "dynamic",
  count: settings.dynamicBackends,
  image: images.dynamic.repoDigest,
  networkName: network.name,
  subnet,
  port: 3000, // Express in docker-images/express-image, told so through PORT
  envs: ["PORT=3000"],
  names,
});

// The proxy: its environment is the backends' real IPs on the network, fed from their outputs.
const proxy = proxyContainer({
  names,
  settings,
  image: images.proxy.repoDigest,
  networkName: network.name,
  subnet,
  staticAddresses: staticPool.addresses,
  dynamicAddresses: dynamicPool.addresses,
  balancerManagerPassword: settings.balancerManagerPassword
    ? pulumi.secret(settings.balancerManagerPassword)
    : undefined,
  engineSupported,
});

// Stack outputs: where to point a browser, and what sits behind the proxy.
export const url = proxyUrl(settings.proxyBindAddress, settings.proxyPort);
export const balancerManagerUrl = settings.balancerManagerPassword
  ? `${url}balancer-manager`
  : "disabled (set the balancerManagerPassword secret to enable it)";
export const staticBackends = staticPool.addresses;
export const dynamicBackends = dynamicPool.addresses;
export const networkName = network.name;
export const networkSubnet = subnet;
export const proxyContainerName = proxy.name;
