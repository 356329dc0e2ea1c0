// Where a private key could leak from the program: any resource input that carries its material
// outside a Pulumi secret (the engine stores secrets encrypted, everything else in clear).
import { isWireSecret, type RecordedResource } from "./pulumiProgram";

/** A PEM key's base64 body on one line: what would betray it, with or without PEM markers. */
export function keyMaterial(pem: string): string {
  return pem
    .split("\n")
    .filter((line) => line && !line.startsWith("-----"))
    .join("");
}

/**
 * Every path (`<type> <name>.<property>…`) of a registered input that holds `material` outside a
 * secret, as the engine receives it (wire inputs), line breaks ignored.
 */
export function leaksOutsideSecrets(
  resources: readonly RecordedResource[],
  material: string,
): string[] {
  const leaks: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (isWireSecret(value)) return;
    if (typeof value === "string" && value.replace(/\n/g, "").includes(material)) leaks.push(path);
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${i}]`));
    else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`);
    }
  };
  for (const resource of resources) walk(resource.wireInputs, `${resource.type} ${resource.name}`);
  return leaks;
}
