/**
 * The way from an error to its response, for every error response (404, 405, sendError,
 * HttpError, uncaught 500, 503 from the store):
 *
 * 1. an uncaught exception (not an HttpError) is shown to the `on_route_exception` hooks first;
 * 2. the default response is made (respond.ts: status, message or reason phrase, JSON for a
 *    client that prefers it, the headers that survive an error); for a client that does not
 *    prefer JSON, `public/<status>.html` is the body when the file exists, as in Dancer2, unless
 *    the response shows the error's details (`show_errors`, development only: respond.ts's
 *    `showsDetails`), which no error page hides;
 * 3. the `before_error` hooks run, in order, and may replace status, headers and body. A value a
 *    hook returns (or resolves to) is the new body, as a route's is: `() => template('error')`
 *    renders a page; undefined changes nothing, and the hooks after it still run. `halt(body)`
 *    sets the body and ends the hooks. A body a hook gave is typed as a route's return value is
 *    (a string is HTML, an object JSON) unless a hook set Content-Type: while the hooks run, the
 *    default response's Content-Type is held aside, and put back after them when the body is
 *    still the default one or the hooks set none for the new body.
 *
 * `on_route_exception` hooks only see the error: what they return is ignored.
 *
 * A hook that throws is logged and the response as it stands is sent: an error page must never
 * turn into a crash or a hung request.
 */
import type { Context } from './context.ts';
import { Halt, HttpError } from '../base/errors.ts';
import type { ErrorHook, ErrorHookName, Hooks } from './hooks.ts';
import type { Log } from '../base/logger.ts';
import type { PublicFiles } from '../response/public-files.ts';
import { setErrorResponse, showsDetails } from '../response/respond.ts';
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
  const headers = ctx.responseHeaders;
  const page = publicFiles && typeof ctx.responseBody === 'string' && !showsDetails(ctx.settings, error) ? publicFiles.errorPage(ctx.responseStatus) : undefined;
  if (page !== undefined) {
    ctx.responseBody = page;
    headers['content-type'] = 'text/html; charset=utf-8';
  }
  if (hooks.before_error.length === 0) return undefined;
  const defaultBody = ctx.responseBody;
  const defaultType = headers['content-type'];
  delete headers['content-type'];
  const typed = (): void => {
    // A hook's own body without a Content-Type of its own is left to writeResponse to type.
    if (headers['content-type'] === undefined && ctx.responseBody === defaultBody && defaultType !== undefined) headers['content-type'] = defaultType;
  };
  return runErrorHooks(ctx, error, hooks.before_error, 0, log, 'before_error').then(typed);
}

/**
 * Runs `list` from `from` in order, each awaited; a failure is logged and ends the list. A value a
 * before_error hook returns becomes the body.
 */
function runErrorHooks(ctx: Context, error: unknown, list: readonly ErrorHook[], from: number, log: Log, name: ErrorHookName): Promise<void> {
  try {
    for (let i = from; i < list.length; i++) {
      const result = list[i]!(ctx, error);
      if (isThenable(result)) {
        return Promise.resolve(result).then(
          value => {
            takeBody(ctx, value, name);
            return runErrorHooks(ctx, error, list, i + 1, log, name);
          },
          failure => hookFailed(ctx, failure, log, name),
        );
      }
      takeBody(ctx, result, name);
    }
  } catch (failure) {
    hookFailed(ctx, failure, log, name);
  }
  ctx.pendingSignal = undefined;
  return Promise.resolve();
}

function takeBody(ctx: Context, value: unknown, name: ErrorHookName): void {
  if (value !== undefined && name === 'before_error') ctx.responseBody = value;
}

function hookFailed(ctx: Context, failure: unknown, log: Log, name: ErrorHookName): void {
  ctx.pendingSignal = undefined;
  if (failure instanceof Halt) return;
  const text = failure instanceof Error ? (failure.stack ?? failure.message) : String(failure);
  log('error', `${ctx.method} ${ctx.path}: a ${name} hook failed, so the error response is sent as it stands: ${text}`);
}
