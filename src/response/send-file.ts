/**
 * A file as a response body, for `sendFile(path)` and the public files: Content-Type from the
 * extension, a weak ETag and Last-Modified from the file's stat, 304 for a fresh conditional
 * GET or HEAD, one byte range (206) or 416, and the bytes streamed with backpressure.
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import mime from 'mime';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from '../base/errors.ts';
import type { Log } from '../base/logger.ts';
import type { RequestLine, ResponseState } from './response-state.ts';
import { pipeStream } from './stream-body.ts';

/** The second argument of `sendFile()`. */
export interface SendFileOptions {
  /** The Content-Type; default from the file's extension (application/octet-stream when unknown). */
  contentType?: string;
  /** Sends `Content-Disposition: attachment` with this file name (the browser downloads it). */
  filename?: string;
  /** `attachment` (the default when `filename` is given) or `inline`. */
  disposition?: 'attachment' | 'inline';
}

/** A file to be written as the response body. */
export class FileBody {
  readonly path: string;
  readonly stats: Stats;
  readonly options: SendFileOptions;

  constructor(path: string, stats: Stats, options: SendFileOptions = {}) {
    this.path = path;
    this.stats = stats;
    this.options = options;
  }
}

/** The FileBody of `path` (relative to the cwd), or a 404 when it is not a readable file. */
export async function fileBody(path: string, options: SendFileOptions = {}): Promise<FileBody> {
  const full = resolve(path);
  const stats = await stat(full).catch(() => undefined);
  if (!stats?.isFile()) throw new HttpError(404, `sendFile: no such file: ${path}`);
  return new FileBody(full, stats, options);
}

const TEXT_TYPES = /^(text\/|application\/(javascript|json|xml)|image\/svg\+xml)/;

/** The Content-Type for a file name; text types in UTF-8 (what an app's own files are written in). */
function typeOf(path: string): string {
  const type = mime.getType(path) ?? 'application/octet-stream';
  return TEXT_TYPES.test(type) ? `${type}; charset=utf-8` : type;
}

/** Writes `file` as the response: headers, then 304, 206, 416 or the whole file. */
export function writeFile(response: ResponseState, request: RequestLine, file: FileBody, log: Log): void {
  const { res, headers } = response;
  const { stats, options } = file;
  const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  headers.etag ??= etag;
  headers['last-modified'] ??= stats.mtime.toUTCString();
  headers['accept-ranges'] = 'bytes';
  let status = response.status;
  if (status === 200 && isFresh(request.headers, etag, stats.mtimeMs)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['content-type'] ??= options.contentType ?? typeOf(file.path);
  if (options.filename !== undefined || options.disposition !== undefined) {
    headers['content-disposition'] = contentDisposition(options.disposition ?? 'attachment', options.filename ?? basename(file.path));
  }
  let start = 0;
  let end = stats.size - 1;
  const range = request.headers.range;
  if (status === 200 && range !== undefined && ifRangeHolds(request.headers['if-range'] as string | undefined, etag, headers['last-modified'] as string)) {
    const wanted = parseRange(range, stats.size);
    if (wanted === 'unsatisfiable') {
      headers['content-range'] = `bytes */${stats.size}`;
      delete headers['content-type'];
      headers['content-length'] = '0';
      res.writeHead(416, headers);
      res.end();
      return;
    }
    if (wanted) {
      [start, end] = wanted;
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${stats.size}`;
    }
  }
  headers['content-length'] = String(end - start + 1);
  res.writeHead(status, headers);
  if (request.method === 'HEAD' || end < start) {
    res.end();
    return;
  }
  pipeStream(res, request, createReadStream(file.path, { start, end }), log);
}

/**
 * Whether the client's copy is current (RFC 9110 §13.1.2-3): If-None-Match, when present,
 * decides alone (weak comparison, or `*`); else If-Modified-Since at one-second precision.
 */
function isFresh(request: IncomingHttpHeaders, etag: string, mtimeMs: number): boolean {
  const noneMatch = request['if-none-match'];
  if (noneMatch !== undefined) {
    const opaque = etag.slice(2);
    return noneMatch.split(',').some(tag => {
      const t = tag.trim();
      return t === '*' || (t.startsWith('W/') ? t.slice(2) : t) === opaque;
    });
  }
  const since = request['if-modified-since'];
  if (since === undefined) return false;
  const time = Date.parse(since);
  return !Number.isNaN(time) && Math.floor(mtimeMs / 1000) * 1000 <= time;
}

/** If-Range (RFC 9110 §13.1.5): the range applies only if it names the current ETag or Last-Modified. */
function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string): boolean {
  return ifRange === undefined || ifRange.trim() === etag || ifRange.trim() === lastModified;
}

/**
 * One byte range (RFC 9110 §14.1.2):
 *   ranges-specifier = "bytes=" range-spec ; range-spec = first "-" [ last ] / "-" suffix-length
 * Several ranges, or a header that does not fit this grammar, are ignored (the whole file is
 * sent, as the RFC allows). A range that starts past the end is unsatisfiable (416).
 */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '') {
    if (last === '') return undefined;
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - length), size - 1];
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return [start, end];
}

/** `attachment; filename="..."`, with RFC 8187's filename* for names that are not plain ASCII. */
function contentDisposition(type: string, name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return ascii === name ? `${type}; filename="${name}"` : `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
