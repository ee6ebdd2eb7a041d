/**
 * The response of one request as it is being decided: status, headers, body, and the headers an
 * error response keeps. The Context (request/context.ts) holds one and shows it to user code as
 * `ctx.responseStatus`, `ctx.responseHeaders` and `ctx.responseBody`; the writers (respond.ts,
 * send-file.ts, stream-body.ts) and the public files take it as it is, so that nothing under
 * response/ needs to know what a Context is.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** Response headers by lower-case name, as node:http's writeHead takes them. */
export type HeaderMap = Record<string, string | string[]>;

/**
 * What the writers read of the request: its method (HEAD has no body), its path (for a log line)
 * and its headers (conditional and range requests, Accept). The Context is one.
 */
export interface RequestLine {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export class ResponseState {
  /** The node:http response it is written to. */
  readonly res: ServerResponse;
  status = 200;
  readonly headers: HeaderMap = Object.create(null);
  /** A route's return value, or what a keyword set: a string, bytes, JSON, a FileBody, a stream. */
  body: unknown = undefined;
  /**
   * The headers an error response keeps: those set by before hooks (CORS, security headers).
   * Undefined when the app has no before hooks; the same object as `headers` while they run
   * (everything set so far is kept), a copy of it once they are done (set by the pipeline).
   */
  kept: HeaderMap | undefined = undefined;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  /** Adds a Set-Cookie header value. */
  appendSetCookie(value: string): void {
    const existing = this.headers['set-cookie'];
    if (existing === undefined) this.headers['set-cookie'] = [value];
    else if (Array.isArray(existing)) existing.push(value);
    else this.headers['set-cookie'] = [existing, value];
  }
}
