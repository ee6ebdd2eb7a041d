/**
 * The fastify + @fastify/session login app the ASVS audit runs against, set up as the plugin's
 * README shows: @fastify/cookie registered first, then @fastify/session with a 32+ character
 * secret and its defaults (`cookie.secure: true`, `rolling: true`, `saveUninitialized: true`, the
 * in-memory store), `request.session.regenerate()` at login and `destroy()` at logout. Its idle
 * timeout (`cookie.maxAge`, slid by `rolling`, "to provide a quick expiration of the session
 * data") is set short. No CSRF: that is the separate @fastify/csrf-protection plugin, which a new
 * app does not have. Forms are parsed by a few-line `application/x-www-form-urlencoded` parser
 * (what @fastify/formbody does), since fastify parses only JSON and text out of the box.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance } from 'fastify';
import { certificate } from '../../test/support/certificate.ts';
import { IDLE_SECONDS, PEER_APP_HAS_NO_ACCOUNTS, PEER_DESCRIPTION, type AuditedApp, type Running } from './audited-app.ts';

declare module 'fastify' {
  interface Session { user?: string }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);

export async function fastifyLoginApp(https: { key: string; cert: string }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, https }) as unknown as FastifyInstance;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: 'a secret with minimum length of 32 characters',
    cookie: { maxAge: IDLE_SECONDS * 1000 },
  });

  app.get('/', async (request, reply) => {
    const user = request.session.get('user');
    reply.type('text/html');
    if (user) return `hello, ${escapeHtml(user)}! <form action="/logout" method="post"><input type="submit" value="Logout"></form>`;
    return '<form action="/login" method="post">Username: <input name="user"><br><input type="submit" value="Login"></form>';
  });

  app.post('/login', async (request, reply) => {
    await request.session.regenerate();
    request.session.set('user', String((request.body as Record<string, unknown> | null)?.user ?? ''));
    return reply.redirect('/');
  });

  app.post('/logout', async (request, reply) => {
    await request.session.destroy();
    return reply.redirect('/');
  });

  app.get('/whoami', async request => ({ user: request.session.get('user') ?? null }));
  return app;
}

export const FASTIFY: AuditedApp = {
  name: 'fastify + @fastify/session',
  source: 'bench/asvs/fastify-app.ts',
  packages: ['fastify', '@fastify/session', '@fastify/cookie'],
  choices: [
    '@fastify/session\'s README setup: @fastify/cookie, then @fastify/session with a 32+ character secret; `request.session.regenerate()` at login, `request.session.destroy()` at logout',
    'its defaults, which already suit HTTPS: `cookie.secure: true`, HttpOnly, `rolling: true`, `saveUninitialized: true`, the in-memory store (not for production, says the README; the plugin checks expiry itself, whatever the store); served by fastify\'s own node:https server',
    `its quick expiry: \`cookie.maxAge\` ${IDLE_SECONDS} s, slid by \`rolling\``,
    'left at the defaults, as a new app gets them: the cookie name (`sessionId`), no SameSite, no @fastify/csrf-protection (a separate plugin, not installed), no cache or Clear-Site-Data headers; a small form-body parser (what @fastify/formbody does)',
  ],
  description: PEER_DESCRIPTION,
  notApplicable: {
    '7.3.2': '@fastify/session has no absolute lifetime: with `rolling` (the default) every response pushes `cookie.maxAge` back',
    ...PEER_APP_HAS_NO_ACCOUNTS,
    '7.5.2': '@fastify/session keeps no index of a user\'s sessions and its store cannot list them: an app would have to build the page itself',
  },
  async start(): Promise<Running> {
    const { key, cert } = certificate();
    const app = await fastifyLoginApp({ key, cert });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return { url: `https://127.0.0.1:${port}`, ca: cert, stop: () => app.close() };
  },
};
