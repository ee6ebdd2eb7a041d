/**
 * Streamed response bodies: a route may return a Node `Readable`, a web `ReadableStream` or any
 * async iterable (of strings or bytes), and it is piped to the socket with backpressure: the
 * next chunk is read only when the socket has taken the last one, so a slow client never makes
 * the server hold the whole stream. No Content-Length is known, so the body goes chunked.
 *
 * An error mid-stream cannot become an error page (the status is already sent): it is logged and
 * the connection is cut, so the client sees a truncated response, never a complete-looking one.
 */
import type { ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { Log } from '../base/logger.ts';
import type { RequestLine, ResponseState } from './response-state.ts';

/** Whether `body` is something writeResponse streams: a Readable, a ReadableStream or an async iterable. */
export function isStreamBody(body: object): boolean {
  return body instanceof Readable || body instanceof ReadableStream || Symbol.asyncIterator in body;
}

/** The body as a Node Readable. */
function toReadable(body: object): Readable {
  if (body instanceof Readable) return body;
  if (body instanceof ReadableStream) return Readable.fromWeb(body as import('node:stream/web').ReadableStream);
  return Readable.from(body as AsyncIterable<unknown>, { objectMode: false });
}

/** Writes the head and streams `body` (none for HEAD, 204 and 304: the stream is then released). */
export function writeStream(response: ResponseState, request: RequestLine, body: object, defaultType: string, log: Log): void {
  const readable = toReadable(body);
  const { res, headers, status } = response;
  if (status !== 204 && status !== 304) headers['content-type'] ??= defaultType;
  res.writeHead(status, headers);
  if (request.method === 'HEAD' || status === 204 || status === 304) {
    readable.destroy();
    res.end();
    return;
  }
  pipeStream(res, request, readable, log);
}

/** Pipes `readable` into `res`; on an error or an aborted client both are destroyed. */
export function pipeStream(res: ServerResponse, request: RequestLine, readable: Readable, log: Log): void {
  pipeline(readable, res, error => {
    // A client that went away is not the server's error; anything else is logged once.
    if (error && (error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      log('error', `${request.method} ${request.path}: the response stream failed: ${error.stack ?? error.message}`);
    }
  });
}

/** Releases a stream body that will not be written (its response was replaced by an error). */
export function discardBody(body: unknown): void {
  if (body instanceof Readable) body.destroy();
  else if (body instanceof ReadableStream) body.cancel().catch(() => {});
}
