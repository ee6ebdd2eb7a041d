/**
 * Hono 4 on @hono/node-server with no session middleware at all: the framework's own cost, to
 * read beside "Hono + hono-sessions" and "Hono + @hono/session". /hello is the route that never
 * touches a session. /read and /write keep the session the way hand-map.ts does (a cookie and a
 * Map of objects), written in the route with Hono's own cookie helpers: divided by the
 * hand-written Map, they say what Hono itself adds to a session route, with no session library.
 */
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { announce } from './harness.ts';

const sessions = new Map<string, { n?: number }>();
const app = new Hono();

app.get('/hello', c => c.text('hello'));
app.get('/read', c => {
  const id = getCookie(c, 'sid');
  return c.text(String((id === undefined ? undefined : sessions.get(id))?.n ?? 0));
});
app.get('/write', c => {
  const id = getCookie(c, 'sid');
  let data = id === undefined ? undefined : sessions.get(id);
  if (data === undefined) {
    const sid = randomBytes(18).toString('base64url');
    sessions.set(sid, (data = {}));
    setCookie(c, 'sid', sid, { path: '/', httpOnly: true, sameSite: 'Lax' });
  }
  data.n = (data.n ?? 0) + 1;
  return c.text('ok');
});

serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, info => announce(info.port));
