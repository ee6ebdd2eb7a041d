/**
 * How the audit talks to the app: plain node:http / node:https requests to the one origin it was
 * given (never a redirect followed, never another host), each through a CookieJar like a
 * browser's, every exchange recorded for the evidence. The total is bounded (`maxRequests`): the
 * audit is an audit, not a load test, and a misdescribed flow must not loop against a live site.
 * node:https rather than fetch so that a test certificate can be trusted per audit (`tls.ca`)
 * without turning certificate checks off for the whole process.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseSetCookieLine, type CookieJar, type SetCookieLine } from './cookie-jar.ts';

/** TLS settings for an https target. */
export interface AuditTls {
  /** PEM certificate(s) to trust besides the system's: a test certificate. */
  ca?: string | Buffer;
  /** false accepts any certificate (a test server only). Default true. */
  rejectUnauthorized?: boolean;
}

export interface SendOptions {
  method?: string;
  /** Extra request headers; a `cookie` header here replaces the jar's. */
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded (unless headers say otherwise). */
  form?: Record<string, string>;
  /** Sent as it is. */
  body?: string;
}

/** One request and its response, as the evidence quotes it. */
export interface Exchange {
  method: string;
  /** The path and query asked for. */
  path: string;
  /** The request's Cookie header ('' when none). */
  cookie: string;
  status: number;
  headers: IncomingHttpHeaders;
  setCookies: SetCookieLine[];
  /** The body as text, at most BODY_LIMIT bytes of it. */
  body: string;
}

/** The part of a body kept for the checks: enough for any page that shows a login state. */
const BODY_LIMIT = 1024 * 1024;

export class RequestBudgetError extends Error {
  override name = 'RequestBudgetError';
}

export class Agent {
  readonly origin: URL;
  readonly #tls: AuditTls;
  readonly #timeoutMs: number;
  #left: number;
  /** Every exchange of the audit, in order. */
  readonly exchanges: Exchange[] = [];

  constructor(origin: URL, options: { tls?: AuditTls; timeoutMs?: number; maxRequests?: number } = {}) {
    this.origin = origin;
    this.#tls = options.tls ?? {};
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#left = options.maxRequests ?? 400;
  }

  /** Sends one request for `path` (on the audit's origin) with `jar`'s cookies, and gives the jar the response's. */
  async send(jar: CookieJar, path: string, options: SendOptions = {}): Promise<Exchange> {
    if (this.#left-- <= 0) throw new RequestBudgetError('the audit used its whole request budget (maxRequests): check the flow description');
    const url = new URL(path, this.origin);
    if (url.origin !== this.origin.origin) throw new Error(`the audit only talks to ${this.origin.origin}, not ${url.origin}`);
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { 'user-agent': 'quickstep-asvs-audit', ...lower(options.headers) };
    let body = options.body;
    if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    headers.cookie ??= jar.header(url);
    if (headers.cookie === '') delete headers.cookie;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const response = await this.#request(url, method, headers, body);
    const setCookies = (response.headers['set-cookie'] ?? []).flatMap(line => parseSetCookieLine(line) ?? []);
    jar.receive(url, setCookies);
    const exchange: Exchange = { method, path: url.pathname + url.search, cookie: headers.cookie ?? '', status: response.status, headers: response.headers, setCookies, body: response.body };
    this.exchanges.push(exchange);
    return exchange;
  }

  #request(url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const tls = url.protocol === 'https:' ? { ...(this.#tls.ca === undefined ? {} : { ca: this.#tls.ca }), rejectUnauthorized: this.#tls.rejectUnauthorized ?? true } : {};
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, timeout: this.#timeoutMs, ...tls }, res => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < BODY_LIMIT) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname} got no answer within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function lower(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}
