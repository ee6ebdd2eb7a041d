/**
 * A test client for Quickstep apps, exported as `quickstep/testing`: it serves the app on
 * 127.0.0.1 at a free port and talks real HTTP to it, with a cookie jar like a browser's
 * (Path respected, expired cookies dropped) and no redirect following, so tests see what a
 * browser would get.
 * ```ts
 * const client = await testClient(app);
 * const res = await client.post('/login', { form: { user: 'ann' } });
 * assert.is(res.status, 303);
 * await client.close();
 * ```
 */
import { parseSetCookie, type SetCookie } from 'cookie';
import type { App } from '../server/app.ts';

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as it is (set the content-type header yourself). */
  body?: string | Uint8Array;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
  /** Every Set-Cookie of the response, parsed. */
  setCookies: SetCookie[];
  /** The Set-Cookie for `name`, if the response had one. */
  setCookie(name: string): SetCookie | undefined;
}

interface JarEntry {
  value: string;
  path: string;
}

export class TestClient {
  readonly url: string;
  /** Cookies the client will send: name -> value and path. */
  readonly jar = new Map<string, JarEntry>();
  readonly #close: () => Promise<void>;

  constructor(url: string, close: () => Promise<void>) {
    this.url = url;
    this.#close = close;
  }

  /** Another client (its own, empty cookie jar) on the same server: a second browser. */
  fork(): TestClient {
    return new TestClient(this.url, async () => {});
  }

  get(path: string, options?: RequestOptions) { return this.request('GET', path, options); }
  head(path: string, options?: RequestOptions) { return this.request('HEAD', path, options); }
  post(path: string, options?: RequestOptions) { return this.request('POST', path, options); }
  put(path: string, options?: RequestOptions) { return this.request('PUT', path, options); }
  patch(path: string, options?: RequestOptions) { return this.request('PATCH', path, options); }
  delete(path: string, options?: RequestOptions) { return this.request('DELETE', path, options); }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Uint8Array | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const cookies = this.#cookieHeader(path);
    if (cookies && headers.cookie === undefined) headers.cookie = cookies;
    // A copy on a plain ArrayBuffer: that is what the DOM lib's BodyInit accepts, for users whose
    // tsconfig has "lib": ["DOM"] (Node's own fetch types take any Uint8Array).
    const payload = typeof body === 'string' || body === undefined ? body : Uint8Array.from(body);
    const response = await fetch(this.url + path, { method, headers, redirect: 'manual', ...(payload === undefined ? {} : { body: payload }) });
    const text = await response.text();
    const setCookies = response.headers.getSetCookie().map(header => parseSetCookie(header));
    for (const cookie of setCookies) this.#store(cookie);
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: () => JSON.parse(text),
      setCookies,
      setCookie: name => setCookies.find(c => c.name === name),
    };
  }

  /** Stops the server (only the client made by testClient() owns it). */
  close(): Promise<void> {
    return this.#close();
  }

  #cookieHeader(path: string): string {
    const pathname = path.split('?', 1)[0]!;
    const pairs: string[] = [];
    for (const [name, entry] of this.jar) {
      if (pathMatches(pathname, entry.path)) pairs.push(`${name}=${entry.value}`);
    }
    return pairs.join('; ');
  }

  #store(cookie: SetCookie): void {
    const expired = (cookie.maxAge !== undefined && cookie.maxAge <= 0) || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now());
    if (expired) this.jar.delete(cookie.name);
    else this.jar.set(cookie.name, { value: cookie.value ?? '', path: cookie.path ?? '/' });
  }
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** Serves `app` on 127.0.0.1 (a free port) and returns a client for it; `close()` stops both. */
export async function testClient(app: App): Promise<TestClient> {
  const { url } = await app.listen(0, '127.0.0.1');
  return new TestClient(url, () => app.close());
}
