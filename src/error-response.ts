/**
 * The way from an error to its response, for every error response (404, 405, sendError,
 * HttpError, uncaught 500, 503 from the store):
 *
 * 1. an uncaught exception (not an HttpError) is shown to the `on_route_exception` hooks first;
 * 2. the default response is made (respond.ts: status, message or reason phrase, JSON for a
 *    client that prefers it, the headers that survive an error); for a client that does not
 *    prefer JSON, `public/<status>.html` is the body when the file exists, as in Dancer2;
 * 3. the `before_error` hooks run and may replace status, headers and body (render a page).
 *
 * A hook that throws is logged and the response as it stands is sent: an error page must never
 * turn into a crash or a hung request. `halt()` in a before_error hook ends the hooks normally.
 */
import type { Context } from './context.ts';
import { Halt, HttpError } from './errors.ts';
import type { ErrorHook, Hooks } from './hooks.ts';
import type { Log } from './logger.ts';
import type { PublicFiles } from './public-files.ts';
import { setErrorResponse } from './respond.ts';
import { isThenable } from './steps.ts';

/** Makes the error response; undefined when no hook returned a Promise, else its end. */
export function respondWithError(ctx: Context, error: unknown, parts: ErrorParts): Promise<void> | undefined {
  const uncaught = !(error instanceof HttpError);
  if (uncaught && parts.hooks.on_route_exception.length > 0) {
    return runErrorHooks(ctx, error, parts.hooks.on_route_exception, 0, parts.log, 'on_route_exception').then(() => defaultThenBeforeError(ctx, error, parts));
  }
  return defaultThenBeforeError(ctx, error, parts);
}

/** What the way to an error response needs from its app. */
export interface ErrorParts {
  hooks: Hooks;
  log: Log;
  /** The public folder, for `public/<status>.html`; none with `static_handler: false`. */
  publicFiles: PublicFiles | undefined;
}

function defaultThenBeforeError(ctx: Context, error: unknown, { hooks, log, publicFiles }: ErrorParts): Promise<void> | undefined {
  setErrorResponse(ctx, error, log);
  const page = publicFiles && typeof ctx.responseBody === 'string' ? publicFiles.errorPage(ctx.responseStatus) : undefined;
  if (page !== undefined) {
    ctx.responseBody = page;
    ctx.responseHeaders['content-type'] = 'text/html; charset=utf-8';
  }
  if (hooks.before_error.length === 0) return undefined;
  return runErrorHooks(ctx, error, hooks.before_error, 0, log, 'before_error');
}

/** Runs `list` from `from` in order, each awaited; a failure is logged and ends the list. */
function runErrorHooks(ctx: Context, error: unknown, list: readonly ErrorHook[], from: number, log: Log, name: string): Promise<void> {
  let result: unknown;
  try {
    for (let i = from; i < list.length; i++) {
      result = list[i]!(ctx, error);
      if (isThenable(result)) {
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
