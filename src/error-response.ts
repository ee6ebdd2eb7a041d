/**
 * The way from an error to its response, for every error response (404, 405, sendError,
 * HttpError, uncaught 500, 503 from the store):
 *
 * 1. an uncaught exception (not an HttpError) is shown to the `on_route_exception` hooks first;
 * 2. the default response is made (respond.ts: status, message or reason phrase, JSON for a
 *    client that prefers it, the headers that survive an error);
 * 3. the `before_error` hooks run and may replace status, headers and body (render a page).
 *
 * A hook that throws is logged and the response as it stands is sent: an error page must never
 * turn into a crash or a hung request. `halt()` in a before_error hook ends the hooks normally.
 */
import type { Context } from './context.ts';
import { Halt, HttpError } from './errors.ts';
import type { ErrorHook, Hooks } from './hooks.ts';
import type { Log } from './logger.ts';
import { setErrorResponse } from './respond.ts';

/** Makes the error response; undefined when no hook returned a Promise, else its end. */
export function respondWithError(ctx: Context, error: unknown, hooks: Hooks, log: Log): Promise<void> | undefined {
  const uncaught = !(error instanceof HttpError);
  if (uncaught && hooks.on_route_exception.length > 0) {
    return runErrorHooks(ctx, error, hooks.on_route_exception, 0, log, 'on_route_exception').then(() => defaultThenBeforeError(ctx, error, hooks, log));
  }
  return defaultThenBeforeError(ctx, error, hooks, log);
}

function defaultThenBeforeError(ctx: Context, error: unknown, hooks: Hooks, log: Log): Promise<void> | undefined {
  setErrorResponse(ctx, error, log);
  if (hooks.before_error.length === 0) return undefined;
  return runErrorHooks(ctx, error, hooks.before_error, 0, log, 'before_error');
}

/** Runs `list` from `from` in order, each awaited; a failure is logged and ends the list. */
function runErrorHooks(ctx: Context, error: unknown, list: readonly ErrorHook[], from: number, log: Log, name: string): Promise<void> {
  let result: unknown;
  try {
    for (let i = from; i < list.length; i++) {
      result = list[i]!(ctx, error);
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        return Promise.resolve(result).then(
          () => runErrorHooks(ctx, error, list, i + 1, log, name),
          failure => hookFailed(ctx, failure, log, name),
        );
      }
    }
  } catch (failure) {
    hookFailed(ctx, failure, log, name);
  }
  ctx.pendingSignal = undefined;
  return Promise.resolve();
}

function hookFailed(ctx: Context, failure: unknown, log: Log, name: string): void {
  ctx.pendingSignal = undefined;
  if (failure instanceof Halt) return;
  const text = failure instanceof Error ? (failure.stack ?? failure.message) : String(failure);
  log('error', `${ctx.method} ${ctx.path}: a ${name} hook failed, so the error response is sent as it stands: ${text}`);
}
