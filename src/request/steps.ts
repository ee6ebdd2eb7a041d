/**
 * How the pipeline's steps follow one another: a step returns undefined when it finished
 * synchronously, else the Promise of its end, and `sequence` chains two steps without making a
 * Promise until one of them does. This keeps a route like `() => 'hello'` free of Promises.
 */
import type { Context } from './context.ts';
import type { Hook } from './hooks.ts';

/** A step's outcome: undefined when it finished synchronously, else the Promise of its end. */
export type Step = void | Promise<void>;
export type StepFn = (ctx: Context) => Step;

/**
 * Runs `first(ctx)`, then `next(ctx)`, or `recover(ctx, error)` when `first` throws or rejects;
 * synchronously while `first` returns no Promise.
 */
export function sequence(ctx: Context, first: StepFn, next: StepFn, recover: (ctx: Context, error: unknown) => Step): Step {
  let result: Step;
  try {
    result = first(ctx);
  } catch (error) {
    return recover(ctx, error);
  }
  if (result === undefined) return next(ctx);
  return result.then(() => next(ctx), error => recover(ctx, error));
}

/** Runs `hooks` from index `from` in order, synchronously until one returns a thenable. */
export function runHooks(ctx: Context, hooks: readonly Hook[], from: number): Step {
  for (let i = from; i < hooks.length; i++) {
    const result = hooks[i]!(ctx);
    if (isThenable(result)) return Promise.resolve(result).then(() => afterHook(ctx, hooks, i + 1));
    // A signal the hook caught itself still takes effect.
    if (ctx.pendingSignal !== undefined) throw ctx.pendingSignal;
  }
  return undefined;
}

function afterHook(ctx: Context, hooks: readonly Hook[], next: number): Step {
  if (ctx.pendingSignal !== undefined) throw ctx.pendingSignal;
  return runHooks(ctx, hooks, next);
}

/** Whether `value` is a Promise or another thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
