// An Apache reverse proxy (mod_proxy_balancer) in front of static Apache/PHP backends (round-robin)
// and dynamic Express backends (sticky on ROUTEID), on a private Docker network: containers on one
// engine (src/containers/) or services on a Docker Swarm (src/swarm/), as `deployTarget` picks
// (src/deployTarget.ts).
//
// Read top to bottom, this file is the data flow:
//   config ─► settings ─► images ─► network ─► backends ─► their addresses ─► proxy env ─► proxy ─► outputs
import * as pulumi from "@pulumi/pulumi";
import { deployTarget } from "./src/deployTarget";
import { runtimeLimits } from "./src/hardening";
import { stackNames } from "./src/naming";
import { proxyUrl } from "./src/proxyEnvironment";
import { MINIMUM_PULUMI_VERSION } from "./src/pulumiVersion";
import { isSecretConfig } from "./src/secretConfig";
import { validateSettings } from "./src/settings";

// Single-host mode's rolling-update options for the proxy (src/containers/proxy.ts) need an engine
// that honours them: ignoreChanges in calculateDependentReplacements (v3.163.0),
// replacementTrigger (v3.208.0), compared unwrapped of outputs (v3.226.0). An older CLI fails the
// run here instead of quietly ignoring them (src/pulumiVersion.ts).
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
  deployTarget: config.get("deployTarget"),
  registry: config.get("registry"),
  proxyNodeLabel: config.get("proxyNodeLabel"),
  proxyMemoryLimitMb: config.getNumber("proxyMemoryLimitMb"),
  staticMemoryLimitMb: config.getNumber("staticMemoryLimitMb"),
  dynamicMemoryLimitMb: config.getNumber("dynamicMemoryLimitMb"),
  proxyCpuLimit: config.get("proxyCpuLimit"),
  staticCpuLimit: config.get("staticCpuLimit"),
  dynamicCpuLimit: config.get("dynamicCpuLimit"),
  // Validation needs the plain value; it leaves this process only re-wrapped as a secret (below).
  balancerManagerPassword: config.get("balancerManagerPassword"),
  balancerManagerPasswordIsSecret: isSecretConfig("balancerManagerPassword"),
  // HTTPS (src/tls.ts): the private key, like the password, is validated plain and leaves this
  // process only as a secret.
  tlsMode: config.get("tlsMode"),
  tlsCertificate: config.get("tlsCertificate"),
  tlsPrivateKey: config.get("tlsPrivateKey"),
  tlsPrivateKeyIsSecret: isSecretConfig("tlsPrivateKey"),
  acmeDomains: config.get("acmeDomains"),
  acmeEmail: config.get("acmeEmail"),
  acmeDirectoryUrl: config.get("acmeDirectoryUrl"),
  acmeCaRoot: config.get("acmeCaRoot"),
  acmeCheckInterval: config.getNumber("acmeCheckInterval"),
  httpsPort: config.getNumber("httpsPort"),
});
const names = stackNames(pulumi.getProject(), pulumi.getStack());
// Containers on one engine, or services on a swarm: the same stages either way.
const target = deployTarget(settings);

// The three images, built from docker-images/* (in swarm mode pushed to `registry`, if set).
const images = target.images(names, settings);

// A private network with an explicit subnet (networkSubnet, or a free one the program picks): a
// bridge where every container gets a fixed address (src/addressing.ts), or a swarm overlay.
const { network, subnet } = target.network(names, settings);

// The backends, published on no host port. `repoDigest` pins the image (its id, or its digest in
// the registry): a rebuilt image replaces the containers (rolls the services), where a tag would
// leave them on the old image. Every container runs as the image's own user, read-only, without
// capabilities, within its limits (src/hardening.ts).
const staticPool = target.memberPool("static", {
  role: "static",
  count: settings.staticBackends,
  image: images.static.repoDigest,
  network,
  subnet,
  port: 8080, // Apache in docker-images/apache-php-image, on a port that needs no privilege
  limits: runtimeLimits(settings, "static"),
  names,
});
const dynamicPool = target.memberPool("dynamic", {
  role: "dynamic",
  count: settings.dynamicBackends,
  image: images.dynamic.repoDigest,
  network,
  subnet,
  port: 3000, // Express in docker-images/express-image, told so through PORT
  environment: { PORT: "3000" },
  limits: runtimeLimits(settings, "dynamic"),
  names,
});

// The proxy: its environment is the backends' addresses (real IPs, or service names on a swarm),
// fed from their outputs.
const proxy = target.proxy({
  names,
  settings,
  image: images.proxy.repoDigest,
  network,
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
