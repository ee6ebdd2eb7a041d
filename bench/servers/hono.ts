/**
 * Hono 4 on @hono/node-server with hono-sessions (the most downloaded session middleware for
 * Hono), mounted on '*' with the options its README shows, `encryptionKey` included ("recommended
 * for others" than CookieStore). hono-sessions ships no Redis store, so for `BENCH_STORE=redis`
 * this file implements its public `Store` interface on ioredis (plain client, default options):
 * one JSON string per session under `hono:<id>` with a TTL. Else its MemoryStore.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { MemoryStore, sessionMiddleware, type Session, type SessionData, type Store } from 'hono-sessions';
import { Redis } from 'ioredis';
import { announce, redisPort, SESSION_TTL, storeKind } from './harness.ts';

/** The store a hono-sessions user writes for Redis: the four methods of its Store interface. */
class RedisStore implements Store {
  readonly #redis = new Redis({ host: '127.0.0.1', port: redisPort() });
  async getSessionById(id?: string): Promise<SessionData | null> {
    const json = id === undefined ? null : await this.#redis.get(`hono:${id}`);
    return json === null ? null : (JSON.parse(json) as SessionData);
  }
  async createSession(id: string, data: SessionData): Promise<void> {
    await this.#redis.set(`hono:${id}`, JSON.stringify(data), 'EX', SESSION_TTL);
  }
  async persistSessionData(id: string, data: SessionData): Promise<void> {
    await this.#redis.set(`hono:${id}`, JSON.stringify(data), 'EX', SESSION_TTL);
  }
  async deleteSession(id: string): Promise<void> {
    await this.#redis.del(`hono:${id}`);
  }
}

const app = new Hono<{ Variables: { session: Session<{ n: number }>; session_key_rotation: boolean } }>();
app.use('*', sessionMiddleware({
  store: storeKind() === 'redis' ? new RedisStore() : new MemoryStore(),
  encryptionKey: 'a bench-only secret that is at least 32 characters long',
  expireAfterSeconds: SESSION_TTL,
  cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true },
}));

app.get('/hello', c => c.text('hello'));
app.get('/read', c => c.text(String(c.get('session').get('n') ?? 0)));
app.get('/write', c => {
  const session = c.get('session');
  session.set('n', (session.get('n') ?? 0) + 1);
  return c.text('ok');
});

serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, info => announce(info.port));
