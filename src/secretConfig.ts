// Whether the stack holds a config value encrypted (`pulumi config set --secret`) or in plain text.
import * as pulumi from "@pulumi/pulumi";

type IsConfigSecret = (fullKey: string) => boolean;

/**
 * True when `key` (of this project) was set with `--secret`. The CLI hands the program the list of
 * secret keys (PULUMI_CONFIG_SECRET_KEYS); the Node SDK reads it in `runtime.isConfigSecret`
 * (sdk/nodejs/runtime/config.ts), which it marks internal. Should a future SDK drop it, this says
 * true: no false alarm, and the value is still wrapped as a secret by the program.
 */
export function isSecretConfig(key: string): boolean {
  const isConfigSecret = (pulumi.runtime as { isConfigSecret?: IsConfigSecret }).isConfigSecret;
  return isConfigSecret ? isConfigSecret(`${pulumi.getProject()}:${key}`) : true;
}
