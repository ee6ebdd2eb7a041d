/**
 * The answers for requests that never reach the app: bytes node cannot parse, a client too slow
 * to send its headers or body, and CONNECT (Quickstep is an origin server, not a proxy). Each
 * gets a short response with `connection: close`, then the connection is closed.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusText } from '../base/errors.ts';
import { ignore } from '../base/handled.ts';

/** Node's error codes for a client error, and the status each gets (as node's own handler). */
const STATUS_FOR_CODE: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  // headersTimeout or requestTimeout passed before the request was all received.
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const CONNECT_REFUSED = 'CONNECT is not supported: this server is not a proxy\n';

/** Installs the `clientError` and `connect` handlers on a server. */
export function answerClientErrors(server: Server): void {
  server.on('clientError', onClientError);
  server.on('connect', onConnect);
}

function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // Only when no byte of a response went out on this socket yet: a status line written into the
  // middle of another response would corrupt it (node's own handler checks the same).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  if (socket.writable && !socket.writableEnded && !inFlight?.headersSent) {
    const status = STATUS_FOR_CODE[error.code ?? ''] ?? 400;
    socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  }
  socket.destroy();
}

// RFC 9110 §15.5.6: a 405 lists what is allowed; an empty Allow says no method is.
function onConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', ignore);
  socket.end(
    `HTTP/1.1 405 ${statusText(405)}\r\nallow: \r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${CONNECT_REFUSED.length}\r\n\r\n${CONNECT_REFUSED}`,
    () => socket.destroy(),
  );
}
