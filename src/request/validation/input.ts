/**
 * Route input validation with any Standard Schema (standard-schema.ts): a route declares schemas
 * for its params, query and body (`post('/notes/:id', { params, body }, ctx => ctx.valid.body)`),
 * and before its handler runs (and before the CSRF token check, which may read the session) each
 * part is validated: the parsed values are `ctx.valid`, typed from the schemas; any issue in any
 * part is a 400 (InvalidInputError) naming each bad field and the rule it broke. The Sec-Fetch-Site
 * lock runs first: it reads one header.
 */
import { HttpError } from '../../base/errors.ts';
import { pipelineState, type Context } from '../context.ts';
import type { Step } from '../steps.ts';
import type { StandardIssue, StandardOutput, StandardResult, StandardSchemaV1 } from './standard-schema.ts';

/** The parts of a request a route may validate, in the order they are checked and reported. */
export const INPUT_PARTS = ['params', 'query', 'body'] as const;
export type InputPart = (typeof INPUT_PARTS)[number];

/** A route's schemas (its options' `params`, `query`, `body`). */
export type InputSchemas = { readonly [P in InputPart]?: StandardSchemaV1 | undefined };

/**
 * `ctx.valid` of a route with options `O`: the output type of each schema it declares, and no
 * other part (`ctx.valid.query` on a route without a query schema does not compile).
 */
export type ValidInput<O> = { readonly [P in keyof O & InputPart as O[P] extends StandardSchemaV1 ? P : never]: StandardOutput<O[P]> };

/** One bad field: the part, its path (`tags.0`; '' for the part as a whole) and the rule's message. */
export interface InputIssue {
  readonly in: InputPart;
  /** The path inside the part, dot-separated: `author.name`, `tags.0`; '' when the part itself is wrong. */
  readonly field: string;
  /** The same place as an RFC 6901 JSON Pointer fragment (`#/tags/0`), as RFC 9457's examples give one. */
  readonly pointer: string;
  /** The rule the value broke, in the schema library's words. */
  readonly message: string;
}

/**
 * A 400 for input a route's schemas refused: every issue of every part. A JSON client gets them
 * as RFC 9457 problem details (respond.ts: `errors`, each with `in`, `field`, `pointer` and
 * `detail`); others get the message, which names each field and rule too.
 */
export class InvalidInputError extends HttpError {
  readonly code = 'INVALID_INPUT';
  readonly issues: readonly InputIssue[];

  constructor(issues: readonly InputIssue[]) {
    const listed = issues.map(issue => `${issue.in}${issue.field === '' ? '' : `.${issue.field}`}: ${issue.message}`).join('; ');
    const errors = issues.map(issue => ({ in: issue.in, field: issue.field, pointer: issue.pointer, detail: issue.message }));
    super(400, `Invalid input: ${listed}`, { expose: true, problem: { errors } });
    this.name = 'InvalidInputError';
    this.issues = issues;
  }
}

/**
 * Validates the parts of `ctx` that `schemas` names and keeps the parsed values for `ctx.valid`.
 * Undefined when every schema answered at once and nothing had to be read; else the Promise of
 * the end. Throws (or rejects with) InvalidInputError listing every issue, or the body's own
 * error when it could not be read (400, 413).
 */
export function validateInput(ctx: Context, schemas: InputSchemas): Step {
  const results: (StandardResult<unknown> | Promise<StandardResult<unknown>> | undefined)[] = [];
  let waiting = false;
  for (const part of INPUT_PARTS) {
    const schema = schemas[part];
    if (schema === undefined) {
      results.push(undefined);
      continue;
    }
    const result = part === 'body' ? ctx.body().then(body => schema['~standard'].validate(body)) : schema['~standard'].validate(part === 'params' ? { ...ctx.params } : ctx.query);
    if (result instanceof Promise) waiting = true;
    results.push(result);
  }
  if (!waiting) return keep(ctx, results as (StandardResult<unknown> | undefined)[]);
  return Promise.all(results).then(settled => keep(ctx, settled));
}

/** Throws the issues, if any; else stores the values as `ctx.valid`. */
function keep(ctx: Context, results: readonly (StandardResult<unknown> | undefined)[]): undefined {
  const issues: InputIssue[] = [];
  const valid: Partial<Record<InputPart, unknown>> = {};
  INPUT_PARTS.forEach((part, i) => {
    const result = results[i];
    if (result === undefined) return;
    if (result.issues === undefined) valid[part] = result.value;
    else for (const issue of result.issues) issues.push(issueIn(part, issue));
  });
  if (issues.length > 0) throw new InvalidInputError(issues);
  pipelineState(ctx).valid = valid;
  return undefined;
}

function issueIn(part: InputPart, issue: StandardIssue): InputIssue {
  const keys = (issue.path ?? []).map(segment => String(typeof segment === 'object' ? segment.key : segment));
  // RFC 6901: "~" is written "~0" and "/" is written "~1" inside a reference token.
  const pointer = keys.length === 0 ? '#' : '#/' + keys.map(key => key.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
  return { in: part, field: keys.join('.'), pointer, message: issue.message };
}

/**
 * The route options' schemas checked when the route is added: each given one must be a Standard
 * Schema. A TypeError names the route, the option and what was given.
 */
export function checkInputSchemas(where: string, options: Partial<Record<InputPart, unknown>>): InputSchemas | undefined {
  let found = false;
  for (const part of INPUT_PARTS) {
    const schema = options[part];
    if (schema === undefined) continue;
    const standard = (schema as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard'];
    if (typeof standard?.validate !== 'function' || standard.version !== 1) {
      throw new TypeError(`${where}: options.${part} must be a Standard Schema (zod, valibot, arktype, ...: an object with "~standard" version 1), got ${typeof schema === 'object' ? 'an object without one' : JSON.stringify(schema)}`);
    }
    found = true;
  }
  return found ? (options as InputSchemas) : undefined;
}
