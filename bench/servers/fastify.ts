/**
 * fastify 5 + @fastify/cookie + @fastify/session, defaults except what plain-HTTP loopback needs
 * (`secure: false`) and `saveUninitialized: false` (what a real app sets, and what stops /hello
 * from storing a session per request). The store is connect-redis on node-redis when
 * `BENCH_STORE=redis` (@fastify/session takes express-session stores), else its memory store.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { RedisStore } from 'connect-redis';
import Fastify from 'fastify';
import { createClient } from 'redis';
import { announce, redisPort, storeKind } from './harness.ts';

declare module 'fastify' {
  interface Session { n: number }
}

const app = Fastify({ logger: false });
await app.register(fastifyCookie);
const client = storeKind() === 'redis'
  ? await createClient({ socket: { host: '127.0.0.1', port: redisPort() } }).connect()
  : undefined;
await app.register(fastifySession, {
  secret: 'a bench-only secret that is at least 32 characters long',
  cookie: { secure: false },
  saveUninitialized: false,
  ...(client === undefined ? {} : { store: new RedisStore({ client }) }),
});

app.get('/hello', async () => 'hello');
app.get('/read', async req => String(req.session.get('n') ?? 0));
app.get('/write', async req => {
  req.session.set('n', (req.session.get('n') ?? 0) + 1);
  return 'ok';
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : 0);
