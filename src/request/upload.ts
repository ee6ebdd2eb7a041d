/**
 * multipart/form-data bodies, parsed by busboy as they stream in: fields become the body's
 * values (a repeated name is an array, as for urlencoded forms), each file is written to a
 * temporary file and described by an `Upload`.
 *
 * Limits (each a 413): the whole body over `max_body_size`, one file over `max_file_size`, more
 * than `max_files` files. The temporary folder is made on the first file and removed when the
 * response closes, whatever ended it: success, an error response, or a client that went away.
 */
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import busboy from 'busboy';
import { HttpError } from '../base/errors.ts';
import type { UrlencodedValues } from './urlencoded.ts';

/** One uploaded file. Its temporary file is removed once the response is sent. */
export interface Upload {
  /** The form field's name. */
  readonly field: string;
  /** The file name the client gave (may be empty; never trust it as a path). */
  readonly filename: string;
  /** The content type the client gave. */
  readonly type: string;
  /** Bytes. */
  readonly size: number;
  /** The temporary file holding the bytes. */
  readonly path: string;
  /** The bytes as a stream. */
  stream(): ReadStream;
}

export interface MultipartForm {
  readonly fields: UrlencodedValues;
  readonly files: Record<string, Upload[]>;
}

export interface UploadLimits {
  maxBodySize: number;
  maxFileSize: number;
  maxFiles: number;
}

/** Whether the request's body is multipart/form-data. */
export function isMultipart(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type !== undefined && /^multipart\/form-data\s*(;|$)/i.test(type);
}

/** Reads the whole multipart body of `req`; temporary files live until `res` closes. */
export function readMultipart(req: IncomingMessage, res: ServerResponse, limits: UploadLimits): Promise<MultipartForm> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBodySize) return Promise.reject(tooLarge(`The request body is larger than ${limits.maxBodySize} bytes (max_body_size)`));
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // busboy reports a file that reaches fileSize; one byte more lets exactly max_file_size through.
      parser = busboy({ headers: req.headers, limits: { fileSize: limits.maxFileSize + 1, files: limits.maxFiles } });
    } catch (error) {
      reject(new HttpError(400, 'The multipart body has no valid boundary', { cause: error }));
      return;
    }
    const fields: UrlencodedValues = Object.create(null);
    const files: Record<string, Upload[]> = Object.create(null);
    let folder: Promise<string> | undefined;
    /** File streams still being written: destroyed on a failure, so no file stays open. */
    const open = new Set<NodeJS.ReadableStream & { destroy(): void }>();
    let count = 0;
    let writing = 0;
    let parsed = false;
    let failed = false;
    let received = 0;

    const fail = (error: HttpError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      for (const stream of open) stream.destroy();
      // Keep reading (and dropping) the rest, so that the error response can still be written.
      req.resume();
      reject(error);
    };
    const finish = () => {
      if (parsed && writing === 0 && !failed) resolve({ fields, files });
    };

    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBodySize) fail(tooLarge(`The request body is larger than ${limits.maxBodySize} bytes (max_body_size)`));
    });
    req.once('close', () => {
      if (!req.complete) fail(new HttpError(400, 'The client closed the connection before the body was complete'));
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(tooLarge(`The form field "${name}" is too long`));
      const previous = fields[name];
      if (previous === undefined) fields[name] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else fields[name] = [previous, value];
    });
    parser.on('file', (field, stream, info) => {
      if (failed) return void stream.resume();
      writing++;
      open.add(stream);
      stream.once('limit', () => fail(tooLarge(`An uploaded file is larger than ${limits.maxFileSize} bytes (max_file_size)`)));
      folder ??= temporaryFolder(res);
      const index = ++count;
      // Its place among the field's files is taken now, in the order the form sent them: files
      // finish writing in any order.
      const list = (files[field] ??= []);
      const slot = list.length;
      list.length = slot + 1;
      folder.then(dir => {
        const path = join(dir, `${Date.now().toString(36)}-${index}-${Math.random().toString(36).slice(2)}`);
        // Counted only from here: a 'data' listener added earlier would let bytes flow before the pipe.
        let size = 0;
        stream.on('data', (chunk: Buffer) => void (size += chunk.length));
        pipeline(stream, createWriteStream(path), error => {
          writing--;
          open.delete(stream);
          if (error) return fail(new HttpError(400, 'An uploaded file could not be stored', { cause: error }));
          if (!failed) list[slot] = upload(field, info, size, path);
          finish();
        });
      }, error => {
        stream.resume();
        fail(new HttpError(500, 'No temporary folder for uploads', { cause: error }));
      });
    });
    parser.once('filesLimit', () => fail(tooLarge(`The form has more than ${limits.maxFiles} files (max_files)`)));
    parser.once('error', error => fail(new HttpError(400, 'The multipart body is malformed', { cause: error })));
    parser.once('close', () => {
      parsed = true;
      finish();
    });
    req.pipe(parser);
  });
}

function upload(field: string, info: busboy.FileInfo, size: number, path: string): Upload {
  return { field, filename: info.filename ?? '', type: info.mimeType, size, path, stream: () => createReadStream(path) };
}

/** A new folder under the OS's temporary folder, removed with its files when `res` closes. */
async function temporaryFolder(res: ServerResponse): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'quickstep-upload-'));
  const remove = () => void rm(dir, { recursive: true, force: true }).catch(() => {});
  // The response may have closed already (a client that went away while the folder was made).
  if (res.closed) remove();
  else res.once('close', remove);
  return dir;
}

function tooLarge(message: string): HttpError {
  return new HttpError(413, message, { expose: true });
}
