/**
 * The access log: one line per request when the `access_log` setting is on (default: in
 * development only), written when the response has gone out:
 *
 *   GET /users/7 200 1.9ms 512b
 *
 * The path is logged without its query string, and never a cookie, a header or a body: query
 * strings and bodies carry tokens and personal data that do not belong in log files. Bytes are
 * the Content-Length ("-" for a streamed response without one). It costs nothing when off.
 */
import type { ServerResponse } from 'node:http';
import type { Context } from '../request/context.ts';
import type { Log } from '../base/logger.ts';

/** Logs `ctx`'s request once its response has finished (or the client went away). */
export function logAccessWhenDone(ctx: Context, log: Log): void {
  const started = performance.now();
  const res = ctx.res;
  const done = () => {
    res.off('finish', done).off('close', done);
    log('info', accessLine(ctx, res, performance.now() - started));
  };
  res.once('finish', done).once('close', done);
}

function accessLine(ctx: Context, res: ServerResponse, ms: number): string {
  // writeHead() is given the headers as an object, so res.getHeader() does not see them.
  const length = ctx.responseHeaders['content-length'] ?? res.getHeader('content-length');
  const bytes = length === undefined ? '-' : `${length}b`;
  const status = res.writableFinished ? String(res.statusCode) : `${res.statusCode} (client closed)`;
  return `${ctx.req.method} ${ctx.path} ${status} ${ms.toFixed(1)}ms ${bytes}`;
}
