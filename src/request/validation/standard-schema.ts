/**
 * The Standard Schema interface (standardschema.dev, version 1), which zod, valibot, arktype and
 * the others implement: a schema is any object with a `~standard` property that validates.
 *
 * Vendored rather than depended on, as the spec invites: it is a types-only interface of a few
 * lines, frozen at version 1, and matched structurally, so a schema from any library fits it
 * without Quickstep importing one. A dependency on `@standard-schema/spec` would add a package
 * to every app's install for these declarations alone. Only what Quickstep reads is here.
 */

/** A schema of any Standard Schema library: `z.object(...)`, `v.object(...)`, ... */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The `~standard` property. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  readonly version: 1;
  /** The library's name (`zod`, `valibot`, ...). */
  readonly vendor: string;
  /** Validates `value`: the parsed value, or the issues; a Promise for an asynchronous schema. */
  readonly validate: (value: unknown, options?: { readonly libraryOptions?: Record<string, unknown> | undefined } | undefined) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** Carries the input and output types for inference only; never read at run time. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

/** What `validate` gives: `{ value }` on success, `{ issues }` on failure. */
export type StandardResult<Output> = { readonly value: Output; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardIssue> };

/** One problem found: the rule's message, and where (`['tags', 0]`). */
export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The type a schema gives when it accepts a value. */
export type StandardOutput<S> = S extends StandardSchemaV1<unknown, infer Output> ? Output : never;
