/**
 * The few error classes Quickstep throws, and the two control-flow signals (`Halt`, `Pass`).
 *
 * Code branches on `instanceof` and on `status` / `code`, never on message text.
 */
import { NotShown } from './secret-names.ts';

/**
 * An error with an HTTP status. Throw one from a route or hook to answer with that status;
 * `headers` go out with the error response (a 405's `Allow`, a 401's `WWW-Authenticate`).
 */
export class HttpError extends Error {
  readonly status: number;
  /** Whether `message` may be shown to the client. True for 4xx, false for 5xx. */
  readonly expose: boolean;
  /** Response headers of the error response, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Extension members of RFC 9457 problem details (`{ errors: [...] }`): when set, a client that
   * prefers JSON gets `application/problem+json` with `type`, `title`, `status`, `detail` and
   * these (respond.ts). Shown only when the message is (`expose`).
   */
  readonly problem: Readonly<Record<string, unknown>> | undefined;

  constructor(status: number, message?: string, options?: { cause?: unknown; expose?: boolean; headers?: Record<string, string>; problem?: Record<string, unknown> }) {
    super(message ?? statusText(status), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.expose = options?.expose ?? status < 500;
    this.headers = lowerCaseNames(options?.headers);
    this.problem = options?.problem;
  }
}

function lowerCaseNames(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (headers) for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/**
 * A login refused because the user already has `max_sessions_per_user` live sessions and
 * `max_sessions_policy` is `refuse` (docs/design.md#a-cap-per-user): a 409 unless caught, thrown
 * by `login()` before anything changed (the session keeps its id and owner). `limit` is the cap.
 */
export class TooManySessionsError extends HttpError {
  readonly code = 'TOO_MANY_SESSIONS';
  readonly limit: number;

  constructor(limit: number) {
    super(409, `This account already has ${limit} active sessions (max_sessions_per_user): sign out on another device first`);
    this.name = 'TooManySessionsError';
    this.limit = limit;
  }
}

/**
 * A bad configuration, found at start-up. Names the file, the key path and what was expected,
 * so the message alone tells how to fix it:
 * `config.yml: engines.session.Memory.max_sessions: expected a positive integer, got "lots"`.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  readonly file: string;
  readonly key: string;
  readonly expected: string;
  /** The message without the file: "key: expected ..., got ...". */
  #detail: string;

  constructor(file: string, key: string, expected: string, got?: unknown) {
    const detail = `${key || '(top level)'}: expected ${expected}${arguments.length >= 4 ? `, got ${describe(got)}` : ''}`;
    super(`${file}: ${detail}`);
    this.name = 'ConfigError';
    this.file = file;
    this.key = key;
    this.expected = expected;
    this.#detail = detail;
  }

  /** The same error, naming `file` (the loader learns which file set a key only after merging). */
  withFile(file: string): ConfigError {
    const moved = new ConfigError(file, this.key, this.expected);
    moved.message = `${file}: ${this.#detail}`;
    moved.#detail = this.#detail;
    return moved;
  }
}

/**
 * The session store could not answer (Redis down, hung, timed out, ...). "Unknown id" is not an
 * error: engines return `undefined` for it. The request answers 503.
 *
 * What a 503 means for the stored session: after a failed read, nothing was changed. After a
 * failed write the outcome is unknown: the store may have applied the write after the request
 * stopped waiting (a slow or frozen Redis runs what it already received). Retrying is safe for
 * idempotent writes (`session(key, value)`, absolute values); an `increment` or `push` may then
 * count twice: store a request id in the session with the change and skip a retry whose id is
 * already there, or write the absolute value instead.
 */
export class SessionStoreError extends HttpError {
  readonly code = 'SESSION_STORE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(503, message, { ...options, expose: false });
    this.name = 'SessionStoreError';
  }
}

/**
 * A session would pass `max_session_size` (bytes of its stored JSON). Thrown by the write that
 * passes it (`session(key, value)`, `session().set(...)`), which then stores nothing, or by the
 * flush when this request's changes merged with what concurrent requests stored pass it, which
 * then stores none of this request's changes. A 413 unless caught; `size` and `limit` in bytes.
 */
export class SessionTooLargeError extends HttpError {
  readonly code = 'SESSION_TOO_LARGE';
  readonly size: number;
  readonly limit: number;

  /** `key`: the session key whose write passed the limit; none when the merged flush did. */
  constructor(size: number, limit: number, key?: string) {
    const what = key === undefined ? 'With the changes of this request the session would be' : `Setting session key ${JSON.stringify(key)} would make the session`;
    super(413, `${what} ${size} bytes, over max_session_size (${limit} bytes; set under engines.session.<Engine> in config.yml)`);
    this.name = 'SessionTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A session on the Cookie engine would make a cookie larger than a browser keeps (4,096 bytes,
 * name, value and attributes together): a browser would drop it silently and the session would
 * vanish. Thrown when the request's cookie is sealed, so the request answers 413, none of its
 * changes are kept and the browser keeps its previous cookie. A SessionTooLargeError (`size`,
 * `limit`: bytes of the Set-Cookie).
 */
export class SessionCookieTooLargeError extends SessionTooLargeError {
  constructor(size: number, limit: number) {
    super(size, limit);
    this.name = 'SessionCookieTooLargeError';
    this.message = `The session cookie would be ${size} bytes with its attributes, over the ${limit} bytes a browser keeps, so this request's session changes were not saved. The Cookie engine holds the whole session in the cookie: keep less in it, or use a server-side engine (session: Memory or Redis in config.yml).`;
  }
}

/** A keyword such as `session()` or `params()` was called while no request is being handled. */
export class OutsideRequestError extends Error {
  readonly code = 'OUTSIDE_REQUEST';
  readonly keyword: string;

  constructor(keyword: string) {
    super(
      `${keyword}() was called outside a request. Call it from a route handler or hook, or use ` +
        `the ctx argument they receive (ctx.${keyword}()); in an app with \`keywords: false\` only ctx works.`,
    );
    this.name = 'OutsideRequestError';
    this.keyword = keyword;
  }
}

/**
 * Thrown by `halt()`, `redirect()` and `sendError()` to end the request with the response the
 * context holds now. Not an Error: it is control flow, so it carries no stack trace.
 */
export class Halt {
  /** True when user `after` hooks should still run (redirect), false to skip them (halt). */
  readonly runAfterHooks: boolean;

  constructor(runAfterHooks: boolean) {
    this.runAfterHooks = runAfterHooks;
  }
}

/** Thrown by `pass()`: try the next route that matches. */
export class Pass {}

/** Thrown by `forward(path)`: dispatch the request again to `path` (and `method`, if given). */
export class Forward {
  readonly path: string;
  readonly method: string | undefined;

  constructor(path: string, method?: string) {
    this.path = path;
    this.method = method;
  }
}

/** The reason phrase for a status, e.g. 404 -> "Not Found". */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof NotShown) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}
