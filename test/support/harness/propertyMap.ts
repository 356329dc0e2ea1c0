// A resource's inputs or outputs as the engine and its providers pass them: JSON-like values whose
// shape depends on the resource type. Pulumi types them `any` at this boundary too (@pulumi/pulumi
// runtime/mocks.ts `MockResourceArgs.inputs`, dynamic/index.ts `ResourceProvider`); the code that
// reads a field gives it its type there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one untyped map, see above
export type PropertyMap = Record<string, any>;
