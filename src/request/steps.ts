/**
 * What a step of the request returns (the pipeline's steps, pipeline.ts, and the hook runner,
 * hooks.ts): undefined when it finished synchronously, else the Promise of its end. Nothing is
 * wrapped in a Promise until something returns one, so a route like `() => 'hello'` costs none.
 */

/** A step's outcome: undefined when it finished synchronously, else the Promise of its end. */
export type Step = Promise<void> | undefined;

/** Whether `value` is a Promise or another thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
