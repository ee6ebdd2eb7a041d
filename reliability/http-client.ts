/**
 * The HTTP requests of the abuse runs (attacker.ts, and the neighbour's login in abuse.ts), on
 * node:http with keep-alive: cheaper per request than fetch, so a flood costs its process less.
 * A client with no session sends no cookie.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface Reply {
  status: number;
  /** The session cookie it set (`sid=...`), if any. */
  cookie: string | undefined;
  body: string;
  /** Every cookie it set, as `name=value`. */
  setCookies: string[];
}

/** One request; a failure to connect or a timeout (10 s) is status 0. */
export function send(port: number, method: string, path: string, options: { cookie?: string; type?: string; body?: string } = {}): Promise<Reply> {
  return new Promise(resolve => {
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = options.cookie;
    if (options.type) headers['content-type'] = options.type;
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent, timeout: 10_000 }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', chunk => (body += chunk));
      const setCookies = (res.headers['set-cookie'] ?? []).map(c => c.split(';')[0]!);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: setCookies.find(c => c.startsWith('sid=')), body, setCookies }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, cookie: undefined, body: '', setCookies: [] }));
    req.end(options.body);
  });
}

/**
 * A login of a fresh client, as a browser does it: GET / (the login form: an anonymous view
 * stores no session, its CSRF token travels in a cookie of its own, `sid.csrf`), then POST
 * /login with the cookies it set and the form's `_csrf` field; 303 on success, the login's
 * session cookie in the reply. Every login of the abuse runs and the soak goes through here. A
 * form without a token or a cookie is answered as status 0.
 */
export async function login(port: number, user: string): Promise<Reply> {
  const form = await send(port, 'GET', '/');
  const token = /<input type="hidden" name="_csrf" value="([A-Za-z0-9_-]+)">/.exec(form.body)?.[1];
  if (token === undefined || form.setCookies.length === 0) return { status: 0, cookie: undefined, body: form.body, setCookies: [] };
  return send(port, 'POST', '/login', { cookie: form.setCookies.join('; '), type: 'application/x-www-form-urlencoded', body: `user=${encodeURIComponent(user)}&_csrf=${token}` });
}

/** PUT /prefs/<name> with a JSON value: 204, or 413 past max_session_size (the JSON API opts out of CSRF). */
export const putPref = (port: number, name: string, value: unknown, cookie?: string): Promise<Reply> =>
  send(port, 'PUT', `/prefs/${name}`, { type: 'application/json', body: JSON.stringify({ value }), ...(cookie ? { cookie } : {}) });
