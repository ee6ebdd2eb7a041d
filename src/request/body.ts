/**
 * Reads and parses a request body, once, when the route asks for it.
 * The size is capped by `max_body_size`: a declared Content-Length over the cap is refused before
 * reading, and a streamed body is cut off as soon as it passes the cap (413). The type decides
 * the parse: JSON, urlencoded form, text/*; anything else is the raw Buffer. An empty body is
 * undefined. Invalid JSON or encoding is a 400 that says which; so is JSON nested deeper than 64
 * levels, a number beyond the double range, or a prototype-poisoning key (body-json.ts).
 */
import type { IncomingMessage } from 'node:http';
import { parseJsonBody } from './body-json.ts';
import { HttpError } from '../base/errors.ts';
import { parseUrlencoded } from './urlencoded.ts';

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const raw = await collect(req, maxBytes);
  if (raw.length === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return parseJsonBody(raw.toString('utf8'));
  if (type === 'application/x-www-form-urlencoded') return parseUrlencoded(raw.toString('utf8'), 'form body');
  if (type.startsWith('text/')) return raw.toString('utf8');
  return raw;
}

function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        // Stop reading but keep the socket readable so the 413 can still be written.
        req.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', error => reject(new HttpError(400, 'The request body could not be read', { cause: error })));
  });
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `The request body is larger than ${maxBytes} bytes (max_body_size)`);
}
