// docker.Secret: pulumi-docker bridges kreuzwerker/terraform-provider-docker's `docker_secret`
// (v4.5.0 internal/provider/resource_docker_secret.go): name, data and labels are all ForceNew and
// there is no UpdateContext, so any change is a replacement. Swarm refuses to remove a secret a
// service still uses, which is why the program names each secret after its content. The proxy
// mounts up to three: the balancer-manager password, and with tlsMode given the certificate chain
// and its private key; each is a docker_secret like any other, and the service's references to
// them are its task_spec.container_spec.secrets (resources/service.ts).
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { planned, type Block } from "../terraformSchema";
import { ignoreMissing, labelMap, type LabelInput } from "./engineApi";
import { nameRequiresDeleteBeforeReplace, requireName } from "./autonaming";
import { SERVICE } from "./service";
import type { DockerContext, ResourceModule } from "./types";

export const SECRET = "docker:index/secret:Secret";

export interface SecretInputs {
  name: string;
  /** Base64 (resourceDockerSecretCreate decodes it with base64.StdEncoding). */
  data: string;
  labels?: LabelInput;
}

/** resourceDockerSecret's schema: every attribute ForceNew; labels are helpers.go labelSchema. */
export const secretSchema: Block = {
  name: { tf: "name", type: "string", required: true, forceNew: true },
  data: { tf: "data", type: "string", required: true, forceNew: true },
  labels: {
    tf: "labels",
    type: "set",
    optional: true,
    forceNew: true,
    elem: {
      label: { tf: "label", type: "string", required: true, forceNew: true },
      value: { tf: "value", type: "string", required: true, forceNew: true },
    },
  },
};

/**
 * resourceDockerSecretRead: SecretInspectWithRaw, any error → "not found, removing from state";
 * else it sets the id and `name` from the secret's spec and nothing else ("secret data is not
 * exposed via the API"; labels are never read): data and labels stay as planned.
 */
async function readSecret(
  context: DockerContext,
  id: string,
  plannedState: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const found = await context.docker
    .getSecret(id)
    .inspect()
    .catch(() => undefined);
  if (!found) return undefined;
  return { ...plannedState, name: found.Spec?.Name };
}

/** resourceDockerSecretCreate: SecretCreate with the decoded data, SetId, then Read. */
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
  const outputs = await readSecret(context, id, planned(secretSchema, undefined, inputs));
  if (!outputs) throw new Error(`harness: secret ${inputs.name} vanished right after its create`);
  return { id, outputs };
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
    sets: new Set(),
    schema: secretSchema,
    // An explicit name: the bridge answers delete-before-replace (autonaming.ts); the program
    // overrides it with deleteBeforeReplace false, which the engine honours.
    deleteBeforeReplace: nameRequiresDeleteBeforeReplace,
    diffBasis: "outputs",
  },
  check: requireName("docker.Secret"),
  docker: {
    read: (context, state) => readSecret(context, state.id!, state.outputs),
    create: (context, inputs) =>
      context.timed("deploy", () => createSecret(context, inputs as SecretInputs)),
    update: async (_context, old) => {
      throw new Error(`harness: ${old.type} ${old.name} has no in-place update (all ForceNew)`);
    },
    delete: (context, state) => context.timed("teardown", () => removeSecret(context, state.id!)),
  },
  memory: {
    uniqueName: true,
    // What Read reports for the secret just created: the name Swarm stores, data and labels as
    // planned.
    create: (_context, inputs) => planned(secretSchema, undefined, inputs),
    update: (old) => {
      throw new Error(`${old.name}: a secret has no in-place update`);
    },
    // Swarm refuses to remove a secret a service references (moby/swarmkit
    // manager/controlapi/secret.go RemoveSecret: InvalidArgument "secret '%s' is in use by the
    // following service: %s"), and resourceDockerSecretDelete returns that error as it is. So a
    // secret replaced delete-first while the proxy mounts it fails the run here as on Swarm.
    refusesDelete: (state, live) => {
      const user = live.find(
        (object) =>
          object.type === SERVICE &&
          (
            (object.outputs as Partial<pulumi.Unwrap<docker.ServiceArgs>>).taskSpec?.containerSpec
              ?.secrets ?? []
          ).some((reference) => reference.secretId === state.id),
      );
      return (
        user &&
        `secret '${String(state.outputs.name)}' is in use by the following service: ${user.name}`
      );
    },
  },
};
