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
 * turn into a crash or a hung request (the rule is declared with the others in hooks.ts).
 */
import { responseOf, type Context } from './context.ts';
import { HttpError } from '../base/errors.ts';
import type { Hooks } from './hooks.ts';
import type { Log } from '../base/logger.ts';
import type { PublicFiles } from '../response/public-files.ts';
import { setErrorResponse, showsDetails } from '../response/respond.ts';
import { channels } from '../base/tracing.ts';
import { noteRequestError } from './request-trace.ts';

/** Makes the error response; undefined when no hook returned a Promise, else its end. */
export function respondWithError(ctx: Context, error: unknown, parts: ErrorParts): Promise<void> | undefined {
  if (channels.request.hasSubscribers) noteRequestError(ctx, error);
  const uncaught = !(error instanceof HttpError);
  if (uncaught && parts.hooks.on_route_exception.length > 0) {
    const seen = parts.hooks.runErrorHooks('on_route_exception', ctx, error, parts.log);
    if (seen !== undefined) return seen.then(() => defaultThenBeforeError(ctx, error, parts));
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
  const response = responseOf(ctx);
  setErrorResponse(response, ctx, ctx.settings, error, log);
  const headers = response.headers;
  const page = publicFiles && typeof response.body === 'string' && !showsDetails(ctx.settings, error) ? publicFiles.errorPage(response.status) : undefined;
  if (page !== undefined) {
    response.body = page;
    headers['content-type'] = 'text/html; charset=utf-8';
  }
  if (hooks.before_error.length === 0) return undefined;
  const defaultBody = response.body;
  const defaultType = headers['content-type'];
  delete headers['content-type'];
  const typed = (): void => {
    // A hook's own body without a Content-Type of its own is left to writeResponse to type.
    if (headers['content-type'] === undefined && response.body === defaultBody && defaultType !== undefined) headers['content-type'] = defaultType;
  };
  const ran = hooks.runErrorHooks('before_error', ctx, error, log);
  if (ran !== undefined) return ran.then(typed);
  typed();
  return undefined;
}
