/**
 * Turns what a request produced into bytes on the wire: a route's return value into
 * a body with its content type, and any error into a response, in this one place (as Koa's
 * ctx.onerror). Details of a 5xx never reach the client unless `show_errors` is on, which only
 * the development environment allows (config.ts); then a browser gets error-details-page.ts.
 */
import type { ServerResponse } from 'node:http';
import type { Settings } from '../config/config.ts';
import { errorDetailsPage } from './error-details-page.ts';
import { HttpError, statusText } from '../base/errors.ts';
import type { Log } from '../base/logger.ts';
import { FileBody, writeFile } from './send-file.ts';
import { discardBody, isStreamBody, writeStream } from './stream-body.ts';
import type { RequestLine, ResponseState } from './response-state.ts';

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const OCTETS = 'application/octet-stream';
const TEXT = 'text/plain; charset=utf-8';

/**
 * Writes `response`: status, headers and body (none for HEAD, 204 and 304). `log` hears of a
 * stream that fails once its head is sent.
 */
export function writeResponse(response: ResponseState, request: RequestLine, log: Log): void {
  const headers = response.headers;
  const status = response.status;
  const body = response.body;
  let payload: string | Uint8Array;
  let type: string;
  if (typeof body === 'string') {
    payload = body;
    type = HTML;
  } else if (body === undefined) {
    payload = '';
    type = HTML;
  } else if (body instanceof Uint8Array) {
    payload = body;
    type = OCTETS;
  } else if (body instanceof FileBody) {
    return writeFile(response, request, body, log);
  } else if (typeof body === 'object' && body !== null && isStreamBody(body)) {
    return writeStream(response, request, body, OCTETS, log);
  } else {
    payload = JSON.stringify(body);
    type = JSON_TYPE;
  }
  const res = response.res;
  if (status === 204 || status === 304) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  if (headers['content-type'] === undefined && payload.length > 0) headers['content-type'] = type;
  headers['content-length'] = String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength);
  res.writeHead(status, headers);
  if (request.method === 'HEAD') res.end();
  else res.end(payload);
}

/**
 * The 500 for a response that could not be written (writeResponse threw), with nothing of it.
 * The reason phrase is given: the failed writeHead has already set the one of its own status,
 * which would otherwise be sent as "500 Found".
 */
export function writeLastResort500(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = statusText(500);
  res.writeHead(500, body, { 'content-type': TEXT, 'content-length': String(body.length) });
  res.end(body);
}

/**
 * Replaces `response` with the error's default response. An HttpError gives its
 * status and headers (and its message when `expose`); anything else is a 500, logged once with
 * its stack. Headers set by before hooks survive (`response.kept`); others are dropped. A client
 * that prefers JSON (Accept) gets `{"status": 404, "message": "..."}` (RFC 9457 problem details
 * for an HttpError with `problem`), others plain text, or,
 * when `showsDetails`, the HTML page of error-details-page.ts (message, file:line, stack).
 */
export function setErrorResponse(response: ResponseState, request: RequestLine, settings: Settings, error: unknown, log: Log): void {
  const headers = response.headers;
  discardBody(response.body);
  const kept = response.kept === headers ? { ...headers } : response.kept;
  for (const name of Object.keys(headers)) delete headers[name];
  if (kept !== undefined) Object.assign(headers, kept);
  const details = showsDetails(settings, error);
  let message: string;
  if (error instanceof HttpError) {
    Object.assign(headers, error.headers);
    response.status = error.status;
    if (error.status >= 500) log('debug', `${request.method} ${request.path}: ${error.status} ${error.message}${causeText(error)}`);
    message = error.expose || details ? error.message : statusText(error.status);
  } else {
    response.status = 500;
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log('error', `${request.method} ${request.path}: uncaught ${stack}`);
    message = details ? stack : statusText(500);
  }
  const problem = error instanceof HttpError && error.expose ? error.problem : undefined;
  if (problem !== undefined && prefersJson(request.headers.accept)) {
    // RFC 9457: `type` about:blank says the status alone is the problem's type, `title` its phrase.
    response.body = { type: 'about:blank', title: statusText(response.status), status: response.status, detail: message, ...problem };
    headers['content-type'] = PROBLEM_JSON;
  } else if (prefersJson(request.headers.accept)) {
    response.body = { status: response.status, message };
    headers['content-type'] = JSON_TYPE;
  } else if (details) {
    response.body = errorDetailsPage(response.status, error);
    headers['content-type'] = HTML;
  } else {
    response.body = message;
    headers['content-type'] = TEXT;
  }
}

/**
 * Whether the response to `error` shows what the client is otherwise never told: true with
 * `show_errors` (development only) for an uncaught exception or an HttpError whose message is not
 * exposed (a 5xx, a SessionStoreError). Such a response is never replaced by public/<status>.html.
 */
export function showsDetails(settings: Settings, error: unknown): boolean {
  return settings.show_errors && !(error instanceof HttpError && error.expose);
}

/**
 * Whether an Accept header asks for JSON before HTML: `application/json` or a `+json` type is
 * listed, and `text/html` is not listed ahead of it (browsers send text/html first).
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const json = accept.search(/application\/json|\+json/);
  if (json === -1) return false;
  const html = accept.indexOf('text/html');
  return html === -1 || json < html;
}

function causeText(error: Error): string {
  const cause = error.cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}
