/**
 * express 5 + express-session with `resave: false, saveUninitialized: false` (what its README
 * recommends), store connect-redis on node-redis when `BENCH_STORE=redis`, else its MemoryStore.
 */
import type { AddressInfo } from 'node:net';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { announce, redisPort, storeKind } from './harness.ts';

declare module 'express-session' {
  interface SessionData { n: number }
}

const client = storeKind() === 'redis'
  ? await createClient({ socket: { host: '127.0.0.1', port: redisPort() } }).connect()
  : undefined;
const app = express();
app.use(session({
  secret: 'a bench-only secret',
  resave: false,
  saveUninitialized: false,
  ...(client === undefined ? {} : { store: new RedisStore({ client }) }),
}));

app.get('/hello', (_req, res) => { res.send('hello'); });
app.get('/read', (req, res) => { res.send(String(req.session.n ?? 0)); });
app.get('/write', (req, res) => {
  req.session.n = (req.session.n ?? 0) + 1;
  res.send('ok');
});

const server = app.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
