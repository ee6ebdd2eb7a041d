/**
 * The params of a route pattern, as a type: `RouteParams<'/users/:id/:tab?'>` is
 * `{ id: string; tab?: string }`, so `get('/users/:id', ctx => ctx.params.id)` is a `string` and a
 * misspelt name does not compile. A pattern only known as `string`, or a RegExp, gives a record of
 * optional strings. The grammar is the router's: a param is a whole segment, `:name` or `:name?`.
 */
export type RouteParams<Pattern> = Pattern extends string
  ? string extends Pattern ? AnyParams : Flatten<SegmentsParams<Pattern>>
  : AnyParams;

/** Params of a pattern whose names are not known to the type checker. */
export type AnyParams = Record<string, string | undefined>;

type SegmentsParams<P extends string> = P extends `${infer Head}/${infer Tail}`
  ? SegmentParam<Head> & SegmentsParams<Tail>
  : SegmentParam<P>;

type SegmentParam<S extends string> = S extends `:${infer Name}?`
  ? { [K in Name]?: string }
  : S extends `:${infer Name}`
    ? { [K in Name]: string }
    : unknown;

type Flatten<T> = { [K in keyof T]: T[K] };
