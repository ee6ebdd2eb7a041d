/**
 * A tiny node:https app hand-tuned to pass every row of the audit, on 127.0.0.1 with a
 * self-signed certificate made by `openssl req -x509` in a temporary folder: `__Host-` cookies
 * with Secure, HttpOnly and SameSite=Strict; a CSRF token per session and a refused
 * `Sec-Fetch-Site: cross-site`; a new id at login; `Cache-Control: no-store` everywhere;
 * `Clear-Site-Data` at logout; idle and absolute timeouts short enough to audit (1 s and 3 s);
 * a credential change, account deletion and a sessions page that end the user's other sessions.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AuditOptions } from 'quickstep/asvs';
import { certificate } from '../support/certificate.ts';

export const IDLE = 1;
export const ABSOLUTE = 3;
const COOKIE = '__Host-sid';

interface Stored {
  user: string | undefined;
  csrf: string;
  created: number;
  seen: number;
}

export interface Hardened {
  url: string;
  /** The certificate to trust (PEM). */
  ca: string;
  /** The description the audit gets of this app, every optional flow included. */
  options: AuditOptions;
  stop(): Promise<void>;
}

export async function startHardened(): Promise<Hardened> {
  const { key, cert } = certificate();
  const sessions = new Map<string, Stored>();
  const newId = () => randomBytes(32).toString('base64url');
  const cookie = (id: string) => `${COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict`;
  const endUser = (user: string, except?: string) => {
    for (const [id, s] of sessions) if (s.user === user && id !== except) sessions.delete(id);
  };

  const server: Server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const headers: Record<string, string | string[]> = { 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' };
      const send = (status: number, body = '') => {
        res.writeHead(status, headers);
        res.end(body);
      };
      const now = Date.now() / 1000;
      const sent = /(?:^|;\s*)__Host-sid=([A-Za-z0-9_-]{43})(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
      let id = sent !== undefined && sessions.has(sent) ? sent : undefined;
      let stored = id === undefined ? undefined : sessions.get(id);
      if (stored && (now - stored.seen > IDLE || now - stored.created > ABSOLUTE)) {
        sessions.delete(id!);
        id = stored = undefined;
      }
      if (stored) stored.seen = now;
      const start = (user: string | undefined) => {
        if (id !== undefined) sessions.delete(id);
        id = newId();
        stored = { user, csrf: newId(), created: now, seen: now };
        sessions.set(id, stored);
        headers['set-cookie'] = cookie(id);
      };
      if (req.method === 'GET' && url.pathname === '/') {
        if (!stored) start(undefined);
        return send(200, `<form method="post"><input type="hidden" name="_csrf" value="${stored!.csrf}"></form>`);
      }
      if (req.method === 'GET' && url.pathname === '/me') return stored?.user ? send(200, `user: ${stored.user}`) : send(401, 'anonymous');
      if (req.method === 'GET' && url.pathname === '/sessions') return stored?.user ? send(200, `${[...sessions.values()].filter(s => s.user === stored!.user).length} sessions`) : send(401);
      if (req.method !== 'POST') return send(405);
      // Unsafe methods: a form from this site with this session's token, never a cross-site request.
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (req.headers['sec-fetch-site'] === 'cross-site' || req.headers['content-type'] !== 'application/x-www-form-urlencoded' || !stored || form.get('_csrf') !== stored.csrf) return send(403);
      const user = stored.user;
      switch (url.pathname) {
        case '/login':
          if (form.get('user') !== 'alice' || form.get('password') !== 'correct horse') return send(401);
          start('alice');
          headers.location = '/';
          return send(303);
        case '/logout':
          sessions.delete(id!);
          headers['set-cookie'] = `${COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
          headers['clear-site-data'] = '"cookies", "storage"';
          return send(204);
        case '/password':
          if (!user) return send(401);
          start(user);
          endUser(user, id);
          return send(204);
        case '/sessions/end-others':
          if (!user) return send(401);
          endUser(user, id);
          return send(204);
        case '/account/delete':
          if (!user) return send(401);
          endUser(user);
          return send(204);
        default:
          return send(404);
      }
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const csrf = { page: '/' };
  return {
    url,
    ca: cert,
    options: {
      login: { path: '/login', fields: { user: 'alice', password: 'correct horse' }, csrf },
      logout: { path: '/logout', csrf },
      loggedIn: { path: '/me', pattern: '^user: alice$' },
      idleTimeout: IDLE,
      absoluteTimeout: ABSOLUTE,
      credentialChange: { path: '/password', fields: { password: 'correct horse' }, csrf },
      disableAccount: { path: '/account/delete', csrf },
      sessions: { path: '/sessions', endOthers: { path: '/sessions/end-others', csrf } },
      tls: { ca: cert },
    },
    stop: () => new Promise<void>(resolve => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
