/**
 * The CSRF check: the step before a route, for unsafe methods, when the route asks for it (the
 * session's `csrf` setting, or the route's own `{ csrf }` option). It passes only when the
 * request carries the token it was given (session/csrf-token.ts: its session's, or its
 * browser's before it has a session), in the `X-CSRF-Token` header or the `_csrf` field of a
 * urlencoded, multipart or JSON body; anything else is a 403 and the route does not run. A body
 * the check cannot read is answered with its own error (413 naming max_body_size, 400).
 *
 * A second lock runs first, always, unless the route says `{ csrf: false }`: an unsafe request
 * the browser marks `Sec-Fetch-Site: cross-site` is a 403 (refuseCrossSite, below;
 * docs/design.md#fetch-metadata-the-second-lock).
 *
 * Safe methods (GET, HEAD, OPTIONS) are never checked, so a plain read costs nothing here: no
 * session read, no body read, no header read. An unsafe request is checked against the method the client sent,
 * once, before the first route that wants it (a `forward()` from a checked request is not
 * checked again; one from an unchecked route to a checked one is).
 */
import { requestSessionOf, type Context } from './context.ts';
import { HttpError } from '../base/errors.ts';
import { isMultipart } from './upload.ts';
import { sameCsrfToken } from '../session/csrf-token.ts';

/** The body field and the request header that carry the token. */
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The methods that never change anything and are never checked (as csurf's ignoreMethods). */
export function isSafeMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * The second lock (docs/design.md#fetch-metadata-the-second-lock): throws a 403 HttpError when the
 * browser says another site sent this unsafe request (`Sec-Fetch-Site: cross-site`). Only that
 * value is refused: `same-origin` and `none` (typed in, a bookmark) are this site's own;
 * `same-site` (a sibling subdomain) is left to the token, which a sibling can neither read nor,
 * under a `__Host-` cookie name, plant; without the header (a non-browser client, a browser from
 * before 2023) there is nothing to go by, and the token decides. Synchronous and storage-free: a
 * refused request costs no body parse beyond the preload, no session read.
 */
export function refuseCrossSite(ctx: Context): void {
  if (ctx.req.headers['sec-fetch-site'] !== 'cross-site') return;
  // Debug only, as a failed token: a forged request must not fill the log.
  ctx.log('debug', `${ctx.req.method} ${ctx.path}: cross-site request refused (Sec-Fetch-Site: cross-site): 403`);
  throw new HttpError(403, 'Another site sent this request: it is refused. Submit the form from this site.');
}

/**
 * Resolves when the request carries the token it was given (session/csrf-token.ts): its
 * session's, or without a session its browser's CSRF cookie's; rejects with a 403 HttpError
 * otherwise (no token, neither of those, another session's or browser's token). The session is
 * read only when a token came and a session cookie with it, so a forged request costs no store
 * read, and neither does an anonymous form's POST.
 */
export function verifyCsrf(ctx: Context): Promise<void> {
  return sentToken(ctx).then(sent => {
    if (sent === undefined) return refuse(ctx, 'no token in the _csrf field or the X-CSRF-Token header');
    return requestSessionOf(ctx).expectedCsrfToken().then(expected => {
      if (expected === undefined) return refuse(ctx, 'the request has neither a session with a token nor a CSRF cookie');
      if (!sameCsrfToken(sent, expected)) return refuse(ctx, "the token is not this session's or this browser's");
      return undefined;
    });
  });
}

/** The token the request sent: the header first (no body read), else the body's `_csrf` field. */
function sentToken(ctx: Context): Promise<string | undefined> {
  const header = ctx.req.headers[CSRF_HEADER];
  if (typeof header === 'string' && header !== '') return Promise.resolve(header);
  // A multipart body is read here (files go to temporary files, as upload() would leave them);
  // body(), upload() and param() in the route then use this same reading. A body that cannot be
  // read is answered with its own error (413 naming max_body_size, 400 malformed): a 403 would
  // send the user after a token that was never the problem.
  if (isMultipart(ctx.req)) return ctx.body().then(fieldOf);
  try {
    // Urlencoded and JSON bodies were read before the hooks (preloadBody); bodyParameters()
    // throws the error of one that could not be, answered as a multipart body's is.
    return Promise.resolve(fieldOf(ctx.bodyParameters()));
  } catch (error) {
    return Promise.reject(error);
  }
}

function fieldOf(fields: unknown): string | undefined {
  const value = fields !== null && typeof fields === 'object' ? (fields as Record<string, unknown>)[CSRF_FIELD] : undefined;
  // Sent twice is an array: no single token, so none.
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function refuse(ctx: Context, why: string): never {
  // Debug only: every stale form and every forged request would otherwise fill the log.
  ctx.log('debug', `${ctx.req.method} ${ctx.path}: CSRF check failed (${why}): 403`);
  throw new HttpError(403, 'The CSRF token is missing or wrong: reload the page and submit the form again.');
}
