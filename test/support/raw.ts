/** Raw TCP for the HTTP tests that must see exact bytes: status lines, refused requests. */
import { connect } from 'node:net';

/**
 * Sends `text` as it is on a fresh TCP connection and returns what came back by the time the
 * server closed the connection (or `waitMs` passed): what a client that cannot be trusted sees.
 */
export function raw(port: number, text: string | Buffer, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', chunk => (received += chunk.toString('latin1')));
    socket.on('close', () => (clearTimeout(timer), resolve(received)));
    socket.on('error', error => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
    socket.write(text);
  });
}

/** The status code of a raw response, 0 if there was none. */
export const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

/** The status line of a raw response, without its CRLF. */
export const statusLine = (response: string) => response.slice(0, Math.max(0, response.indexOf('\r\n')));
