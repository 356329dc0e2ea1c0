// Terraform's plugin SDK v2 as pulumi-terraform-bridge runs it for a bridged resource, on the
// values the harness keeps (Pulumi-shaped: camelCase names, a MaxItems:1 block as an object):
//
// - the schema facts of each attribute (helper/schema/schema.go `Schema`: Type, Optional,
//   Required, Computed, ForceNew, Default, DiffSuppressFunc, MaxItems, Elem);
// - the planned value the provider's Create/Update reads (`planned`): the bridge's proposed new
//   state (pulumi-terraform-bridge pkg/tfshim/sdk-v2/provider2.go `Diff` → `proposedNew`, the
//   vendored opentofu plans/objchange `ProposedNew`: a Computed attribute the config leaves out
//   keeps its prior value) read through the SDK's config reader
//   (helper/schema/field_reader_config.go `readPrimitive`: a missing value takes its Default);
// - the diff (`diffResource`): helper/schema/schema.go `schemaMap.diff` and its `diffString`,
//   `diffList`, `diffSet`, `diffMap`, each attribute diff finished by `Schema.finalizeDiff`. The
//   bridge turns a RequiresNew anywhere into a replacement (pkg/tfbridge/provider.go `Diff`:
//   `replaceDecision := diff.RequiresNew()`), blamed on the top-level property it sits under.
//
// Versions: the SDK fork pulumi-docker v5 `replace`s to (pulumi/terraform-plugin-sdk, branch
// upstream-v2.38.1), pulumi-terraform-bridge v3.137.
import { isDeepStrictEqual } from "node:util";

/** The value calculateDependentReplacements or a preview puts where an input is not known. */
export const UNKNOWN = Symbol("unknown");

export type Primitive = "string" | "int" | "bool";

interface Flags {
  /** The Terraform attribute name (for messages, and the order SerializeResourceForHash uses). */
  tf: string;
  optional?: true;
  required?: true;
  computed?: true;
  forceNew?: true;
}

export interface PrimitiveAttribute extends Flags {
  type: Primitive;
  default?: string | number | boolean;
  /** `DiffSuppressFunc`, on the attribute diff's Old and New strings. */
  diffSuppress?: (old: string, next: string) => boolean;
}

/** A `TypeList` or `TypeSet` of blocks (`Elem: &schema.Resource`) or of primitives. */
export interface CollectionAttribute extends Flags {
  type: "list" | "set";
  /** 1: the bridge flattens the list to a single object (MaxItems: 1). */
  maxItems?: 1;
  elem: Block | Primitive;
}

/** A `TypeMap` of strings. */
export interface MapAttribute extends Flags {
  type: "map";
}

export type Attribute = PrimitiveAttribute | CollectionAttribute | MapAttribute;

/** A resource's (or a nested block's) attributes, by their Pulumi name. */
export type Block = { readonly [pulumiName: string]: Attribute };

/** One attribute diff the SDK reports (terraform.ResourceAttrDiff), at its Terraform path. */
export interface AttributeDiff {
  path: string;
  /** The top-level Pulumi property it sits under: what the bridge reports as changed. */
  property: string;
  requiresNew: boolean;
}

type Value = unknown;

const isBlock = (elem: Block | Primitive): elem is Block => typeof elem === "object";

function zero(type: Primitive): string | number | boolean {
  return type === "string" ? "" : type === "int" ? 0 : false;
}

/**
 * A primitive as the SDK's diffString compares it: mapstructure.WeakDecode into a string (a bool
 * becomes "1"/"0", which finalizeDiff turns back into "true"/"false").
 */
function asString(value: Value): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "boolean") return value ? "true" : "false";
  // A number or a string here: the primitives a schema attribute holds.
  const primitive = value as number | string;
  return String(primitive);
}

/** A collection value as a list of elements (a MaxItems:1 block's object is one element). */
function elements(attribute: CollectionAttribute, value: Value): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value as unknown[];
  if (attribute.maxItems === 1) return [value];
  throw new Error(`harness: ${attribute.tf} should be a list, got ${JSON.stringify(value)}`);
}

function containsUnknown(value: Value): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null)
    return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * The value the provider's Create or Update reads for a block: the config's values, the
 * schema's Default where the config has none, and (ProposedNew) the prior value of a Computed
 * attribute the config leaves out. A collection the config leaves out is the prior one when it is
 * Computed (the SDK plans no change for it), else absent.
 */
export function planned(block: Block, prior: Value, config: Value): Record<string, unknown> {
  const priorObject = (prior ?? {}) as Record<string, unknown>;
  const configObject = (config ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(block)) {
    const value = plannedAttribute(attribute, priorObject[name], configObject[name]);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function plannedAttribute(attribute: Attribute, prior: Value, config: Value): Value {
  const absent = config === undefined || config === null;
  if (absent) {
    if (attribute.computed && prior !== undefined) return prior;
    if (attribute.type === "list" || attribute.type === "set" || attribute.type === "map") {
      return undefined;
    }
    return (attribute as PrimitiveAttribute).default;
  }
  if (config === UNKNOWN) return UNKNOWN;
  if (attribute.type === "list" || attribute.type === "set") {
    const elem = attribute.elem;
    if (!isBlock(elem)) return config;
    const priorElements = elements(attribute, prior) ?? [];
    const configElements = elements(attribute, config)!;
    // Lists correlate by index (proposedNewNestingList); the sets modelled here have no Computed
    // attribute inside, so their elements are the config's with the defaults filled in.
    const list = configElements.map((element, index) =>
      planned(elem, attribute.type === "list" ? priorElements[index] : undefined, element),
    );
    return attribute.maxItems === 1 ? list[0] : list;
  }
  return config;
}

/** The SDK's hash code of a set element (schema.HashResource → SerializeResourceForHash). */
function setCode(elem: Block | Primitive, value: Value): string {
  if (!isBlock(elem)) return asString(value);
  const object = (value ?? {}) as Record<string, unknown>;
  // Optional and Required attributes only, in the order of their Terraform names; each value as
  // the reader gives it (readObjectField: a missing one is its type's zero value, or its Default).
  const parts = Object.entries(elem)
    .filter(([, attribute]) => attribute.optional || attribute.required)
    .sort(([, a], [, b]) => a.tf.localeCompare(b.tf))
    .map(([name, attribute]) => {
      const raw = object[name];
      if (attribute.type === "list" || attribute.type === "set") {
        const list = elements(attribute, raw) ?? [];
        const codes = list.map((item) => setCode(attribute.elem, item));
        return [attribute.tf, attribute.type === "set" ? codes.sort() : codes];
      }
      if (attribute.type === "map") {
        const map = (raw ?? {}) as Record<string, unknown>;
        return [
          attribute.tf,
          Object.keys(map)
            .sort()
            .map((key) => [key, asString(map[key])]),
        ];
      }
      const primitive = attribute as PrimitiveAttribute;
      return [primitive.tf, asString(raw ?? primitive.default ?? zero(primitive.type))];
    });
  return JSON.stringify(parts);
}

interface Context {
  property: string;
  diffs: AttributeDiff[];
}

/** Schema.finalizeDiff, for one attribute diff; undefined when it drops it. */
function finalize(
  flags: Flags & { type: Primitive | "count" },
  diff: { old: string; new: string; newRemoved?: boolean; newComputed?: boolean },
): { requiresNew: boolean; old: string; new: string } | undefined {
  let { old, new: next, newComputed = false } = diff;
  const newRemoved = diff.newRemoved ?? false;
  if (flags.type === "bool") {
    const normal = (text: string) => (text === "0" ? "false" : text === "1" ? "true" : text);
    old = normal(old);
    next = normal(next);
  }
  if (flags.computed && !newRemoved && next === "") newComputed = true;
  const requiresNew = flags.forceNew ? old !== next || newComputed : false;
  if (newRemoved) return { requiresNew, old, new: next };
  // "A computed value with the empty string as the new value and a non-empty old value was
  // found. Interpreting the empty string as "unset"" (customized is false without CustomizeDiff).
  if (flags.computed && old !== "" && next === "") return undefined;
  return { requiresNew, old, new: next };
}

function record(context: Context, path: string, requiresNew: boolean) {
  context.diffs.push({ path, property: context.property, requiresNew });
}

/** schemaMap.diff: one attribute, dispatched on its type, its DiffSuppressFunc applied. */
function diffAttribute(
  context: Context,
  path: string,
  attribute: Attribute,
  old: Value,
  next: Value,
  all: boolean,
) {
  switch (attribute.type) {
    case "list":
      return diffList(context, path, attribute, old, next, all);
    case "set":
      return diffSet(context, path, attribute, old, next);
    case "map":
      return diffMap(context, path, attribute, old, next);
    default:
      return diffString(context, path, attribute, old, next, all);
  }
}

/** schemaMap.diffString (TypeBool, TypeInt, TypeFloat, TypeString). */
function diffString(
  context: Context,
  path: string,
  attribute: PrimitiveAttribute,
  old: Value,
  next: Value,
  all: boolean,
) {
  const computed = next === UNKNOWN;
  const n = computed ? undefined : next;
  // "nraw := n; if nraw == nil && o != nil { nraw = schema.Type.Zero() }"
  const nraw = n === undefined && old !== undefined ? zero(attribute.type) : n;
  const os = asString(old);
  const ns = asString(nraw);
  // Same value: done, since the resource has an ID (Diff runs on deployed resources only).
  if (os === ns && !all && !computed) return;
  const removed = old !== undefined && n === undefined && !computed;
  if (removed && attribute.computed) return;
  const diff = finalize(attribute, {
    old: os,
    new: ns,
    newRemoved: removed,
    newComputed: computed,
  });
  if (!diff) return;
  // schemaMap.diff: a suppressed attribute diff is dropped, or kept as a no-op inside a set.
  if (attribute.diffSuppress?.(diff.old, diff.new)) {
    if (!all) return;
    record(context, path, false);
    return;
  }
  record(context, path, diff.requiresNew);
}

/** The count diff of a list, set or map: a synthetic TypeInt with the collection's flags. */
function diffCount(
  context: Context,
  path: string,
  attribute: Attribute,
  diff: { old: string; new: string; newComputed?: boolean },
) {
  const finished = finalize(
    { tf: attribute.tf, computed: attribute.computed, forceNew: attribute.forceNew, type: "count" },
    diff,
  );
  if (finished) record(context, path, finished.requiresNew);
}

/** schemaMap.diffList. */
function diffList(
  context: Context,
  path: string,
  attribute: CollectionAttribute,
  oldValue: Value,
  nextValue: Value,
  all: boolean,
) {
  // "If the whole list is computed, then say that the # is computed", with the list's own
  // ForceNew, and nothing below it: a wholly unknown block is not a ForceNew change unless the
  // block itself is ForceNew.
  if (nextValue === UNKNOWN) {
    record(context, `${path}.#`, attribute.forceNew === true);
    return;
  }
  // In the state a block Read wrote holds every collection, empty ones too.
  const o = elements(attribute, oldValue) ?? [];
  const n = elements(attribute, nextValue);
  // "If we have an old value and no new value is set … and we're computed, then nothing has
  // changed."
  if (n === undefined && attribute.computed) return;
  const vs = n ?? [];
  if (!all && n !== undefined && isDeepStrictEqual(o, vs)) return;
  const changed = o.length !== vs.length;
  // o is never nil here, so the "computed" count (oldLen == 0 && newLen == 0 && Computed) only
  // happens with an explicit empty config list, which the bridge drops for a block.
  if (changed || all) {
    diffCount(context, `${path}.#`, attribute, { old: String(o.length), new: String(vs.length) });
  }
  const max = Math.max(o.length, vs.length);
  const elem = attribute.elem;
  for (let index = 0; index < max; index++) {
    if (isBlock(elem)) {
      const before = (o[index] ?? undefined) as Record<string, unknown> | undefined;
      const after = (vs[index] ?? undefined) as Record<string, unknown> | undefined;
      for (const [name, child] of Object.entries(elem)) {
        diffAttribute(
          context,
          `${path}.${index}.${child.tf}`,
          child,
          before === undefined ? undefined : stateValue(child, before[name]),
          after === undefined ? undefined : after[name],
          all,
        );
      }
    } else {
      // "Copy the schema so that we can set Computed/ForceNew from the parent schema."
      diffString(
        context,
        `${path}.${index}`,
        { tf: attribute.tf, type: elem, forceNew: attribute.forceNew },
        o[index],
        vs[index],
        all,
      );
    }
  }
}

/** A collection in a state block Read wrote is present, if empty; a primitive may be absent. */
function stateValue(attribute: Attribute, value: Value): Value {
  if (value !== undefined) return value;
  if (attribute.type === "list" || attribute.type === "set") return [];
  if (attribute.type === "map") return {};
  return undefined;
}

/** schemaMap.diffSet. */
function diffSet(
  context: Context,
  path: string,
  attribute: CollectionAttribute,
  oldValue: Value,
  nextValue: Value,
) {
  const computedSet = containsUnknown(nextValue);
  const o = elements(attribute, oldValue) ?? [];
  const n = computedSet ? undefined : elements(attribute, nextValue);
  if (n === undefined && !computedSet && attribute.computed) return;
  if (computedSet || (attribute.computed && n === undefined)) {
    diffCount(context, `${path}.#`, attribute, {
      old: String(o.length),
      new: "",
      newComputed: true,
    });
    return;
  }
  const vs = n ?? [];
  const oldCodes = new Map(o.map((element) => [setCode(attribute.elem, element), element]));
  const newCodes = new Map(vs.map((element) => [setCode(attribute.elem, element), element]));
  // "compare the listCode's to determine if the two are equal"
  if (
    n !== undefined &&
    isDeepStrictEqual([...oldCodes.keys()].sort(), [...newCodes.keys()].sort())
  ) {
    return;
  }
  if (oldCodes.size !== newCodes.size) {
    diffCount(context, `${path}.#`, attribute, {
      old: String(oldCodes.size),
      new: String(newCodes.size),
    });
  }
  // The removed codes and every new code, each element diffed with `all` (every attribute).
  const removed = [...oldCodes.keys()].filter((code) => !newCodes.has(code));
  for (const code of [...removed, ...newCodes.keys()]) {
    const before = oldCodes.get(code);
    const after = newCodes.get(code);
    const elem = attribute.elem;
    if (isBlock(elem)) {
      const b = before as Record<string, unknown> | undefined;
      const a = after as Record<string, unknown> | undefined;
      for (const [name, child] of Object.entries(elem)) {
        diffAttribute(
          context,
          `${path}.${code}.${child.tf}`,
          child,
          b === undefined ? undefined : stateValue(child, b[name]),
          a === undefined ? undefined : a[name],
          true,
        );
      }
    } else {
      diffString(
        context,
        `${path}.${code}`,
        { tf: attribute.tf, type: elem, forceNew: attribute.forceNew },
        before,
        after,
        true,
      );
    }
  }
}

/** schemaMap.diffMap (of strings). */
function diffMap(
  context: Context,
  path: string,
  attribute: MapAttribute,
  oldValue: Value,
  nextValue: Value,
) {
  const nComputed = containsUnknown(nextValue);
  const stateExists = oldValue !== undefined;
  const stateMap = { ...((oldValue ?? {}) as Record<string, unknown>) };
  const configMap = nComputed ? {} : ((nextValue ?? {}) as Record<string, unknown>);
  const oldLen = Object.keys(stateMap).length;
  const newLen = Object.keys(configMap).length;
  let changed = oldLen !== newLen;
  if (oldLen !== 0 && newLen === 0 && attribute.computed) changed = false;
  const computed = oldLen === 0 && newLen === 0 && attribute.computed === true && !stateExists;
  if (changed || computed || nComputed) {
    diffCount(
      context,
      `${path}.%`,
      { ...attribute, computed: attribute.computed || (nComputed ? true : undefined) },
      {
        old: computed || nComputed ? "" : String(oldLen),
        new: computed || nComputed ? "" : String(newLen),
      },
    );
  }
  if (nextValue === undefined && attribute.computed) return;
  const element = { tf: attribute.tf, type: "string" as const, forceNew: attribute.forceNew };
  for (const [key, value] of Object.entries(configMap)) {
    const had = key in stateMap;
    const old = stateMap[key];
    delete stateMap[key];
    if (had && asString(old) === asString(value)) continue;
    const diff = finalize(element, { old: asString(old), new: asString(value) });
    if (diff) record(context, `${path}.${key}`, diff.requiresNew);
  }
  for (const [key, value] of Object.entries(stateMap)) {
    const diff = finalize(element, { old: asString(value), new: "", newRemoved: true });
    if (diff) record(context, `${path}.${key}`, diff.requiresNew);
  }
}

/**
 * schemaMap.Diff of a deployed resource: its prior state (the old outputs) against the config
 * (the new inputs, UNKNOWN where not known), attribute by attribute over the whole schema. The
 * config is first made the bridge's proposed new state (`planned`).
 */
export function diffResource(
  schema: Block,
  state: Record<string, unknown>,
  config: Record<string, unknown>,
): AttributeDiff[] {
  const proposed = planned(schema, state, config);
  const diffs: AttributeDiff[] = [];
  for (const [name, attribute] of Object.entries(schema)) {
    diffAttribute(
      { property: name, diffs },
      attribute.tf,
      attribute,
      stateValue(attribute, state[name]),
      proposed[name],
      false,
    );
  }
  return diffs;
}
