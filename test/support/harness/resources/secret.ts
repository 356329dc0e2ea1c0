// docker.Secret: pulumi-docker bridges kreuzwerker/terraform-provider-docker's `docker_secret`
// (v4.5.0 internal/provider/resource_docker_secret.go): name, data and labels are all ForceNew and
// there is no UpdateContext, so any change is a replacement. Swarm refuses to remove a secret a
// service still uses, which is why the program names each secret after its content.
import { ignoreMissing, labelMap, type LabelInput } from "./engineApi";
import { nameRequiresDeleteBeforeReplace, requireName } from "./autonaming";
import type { DockerContext, ResourceModule } from "./types";

export const SECRET = "docker:index/secret:Secret";

export interface SecretInputs {
  name: string;
  /** Base64 (resourceDockerSecretCreate decodes it with base64.StdEncoding). */
  data: string;
  labels?: LabelInput;
}

/** resourceDockerSecretCreate: SecretCreate with the decoded data. */
async function createSecret(context: DockerContext, inputs: SecretInputs) {
  // validateStringIsBase64Encoded, at plan time.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(inputs.data) || inputs.data.length % 4 !== 0) {
    throw new Error(`"data": must be base64 encoded (secret ${inputs.name})`);
  }
  const created = (await context.docker.createSecret({
    Name: inputs.name,
    Data: inputs.data,
    Labels: labelMap(inputs.labels, context.labels),
  })) as { id?: string; ID?: string };
  const id = (created.id ?? created.ID) as string;
  context.track({ kind: "secret", id, name: inputs.name });
  return { id, outputs: { ...inputs } };
}

/** resourceDockerSecretDelete: SecretRemove (Swarm answers 400 while a service uses it). */
export async function removeSecret(context: DockerContext, id: string) {
  await context.docker.getSecret(id).remove().catch(ignoreMissing);
  context.forget(id);
}

export const secret: ResourceModule = {
  type: SECRET,
  inputs: { name: true, data: true, labels: { label: true, value: true } },
  rules: {
    properties: { name: "replace", data: "replace", labels: "replace" },
    computed: new Set(),
    sets: new Set(["labels"]),
    // An explicit name: the bridge answers delete-before-replace (autonaming.ts); the program
    // overrides it with deleteBeforeReplace false, which the engine honours.
    deleteBeforeReplace: nameRequiresDeleteBeforeReplace,
    diffBasis: "outputs",
  },
  check: requireName("docker.Secret"),
  docker: {
    // resourceDockerSecretRead: SecretInspectWithRaw; gone → removed from the state. Swarm never
    // returns a secret's data, so the provider keeps the data it wrote.
    read: async (context, state) => {
      const found = await context.docker
        .getSecret(state.id!)
        .inspect()
        .catch((error: { statusCode?: number }) => {
          if (error.statusCode === 404) return undefined;
          throw error;
        });
      return found && { ...state.outputs };
    },
    create: (context, inputs) =>
      context.timed("deploy", () => createSecret(context, inputs as SecretInputs)),
    update: async (_context, old) => {
      throw new Error(`harness: ${old.type} ${old.name} has no in-place update (all ForceNew)`);
    },
    delete: (context, state) => context.timed("teardown", () => removeSecret(context, state.id!)),
  },
  memory: {
    uniqueName: true,
    create: (_context, inputs) => ({ ...inputs }),
    update: (old) => {
      throw new Error(`${old.name}: a secret has no in-place update`);
    },
  },
};
