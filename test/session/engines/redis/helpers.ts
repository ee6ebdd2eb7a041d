/**
 * Shared by the Redis engine tests: building an engine from config-shaped options (through the
 * same checks config.yml gets), fresh ids and prefixes, and writing a session.
 */
import { randomBytes } from 'node:crypto';
import * as assert from 'uvu/assert';
import { createApp, type App } from '../../../../src/index.ts';
import type { SessionStore } from '../../../../src/session/engine.ts';
import type { RedisEngine } from '../../../../src/session/engines/redis/redis.ts';
import type { RedisEngineOptions } from '../../../../src/session/engines/redis/options.ts';
import { Session } from '../../../../src/session/session.ts';
import { readSessionSettings } from '../../../../src/session/settings.ts';

export const WHERE = { file: 'config.yml', enginePath: 'session', optionsPath: 'engines.session.Redis' };

/** The engine options as config.yml would give them, checked the same way (cross-key rules too). */
export function redisOptions(options: Record<string, unknown>): RedisEngineOptions {
  return readSessionSettings('Redis', options, WHERE).engineOptions as unknown as RedisEngineOptions;
}

export interface Logged {
  level: string;
  message: string;
}

/** A Redis engine for `options`, with its log lines collected in `logs`. */
export function makeEngine(options: Record<string, unknown>, sessionDuration = 60): { engine: RedisEngine; logs: Logged[] } {
  const logs: Logged[] = [];
  const settings = readSessionSettings('Redis', options, WHERE);
  const created = settings.engine.create(settings.engineOptions, {
    sessionDuration,
    log: (level, message) => logs.push({ level, message }),
  });
  if (!('store' in created)) throw new TypeError('the Redis engine is a store');
  return { engine: created.store as RedisEngine, logs };
}

/** A fresh, valid session id. */
export const newId = (): string => randomBytes(24).toString('base64url');

/** A key prefix no other test uses, so listings and counts see only this test's sessions. */
export const uniquePrefix = (): string => `test.${randomBytes(4).toString('hex')}:`;

/** Flushes what `edit` does to a session with `id` (new or existing) and returns the session. */
export async function write(engine: SessionStore, id: string, isNew: boolean, edit: (s: Session) => void, ttl = 60): Promise<Session> {
  const session = new Session(id, {}, isNew);
  edit(session);
  await engine.flush(id, session.change, ttl);
  return session;
}

/** The stored data, or undefined. */
export async function read(engine: SessionStore, id: string): Promise<Record<string, unknown> | undefined> {
  return (await engine.retrieve(id))?.data;
}

/** Lists every id the engine streams. */
export async function listAll(engine: SessionStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of engine.sessions()) ids.push(id);
  return ids.sort();
}

/** Resolves with how long `promise` took to settle and how it settled. */
export async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/**
 * An app on the Redis engine with the routes the fault tests drive over HTTP. `/inc` only
 * increments a session that has a user (answering 409 otherwise), so a request whose cookie went
 * stale cannot count an increment into a fresh session of its own.
 */
export function redisApp(redisOptions: Record<string, unknown>, log = 'none'): App {
  const app = createApp({ log, session: 'Redis', engines: { session: { Redis: redisOptions } } });
  app.get('/start', async ctx => {
    await ctx.session('user', 'ann');
    return 'ok';
  });
  app.get('/read', async ctx => JSON.stringify((await ctx.session('user')) ?? null));
  app.get('/count', async ctx => JSON.stringify((await ctx.session('n')) ?? 0));
  app.get('/inc', async ctx => {
    const session = await ctx.session();
    if (!session.has('user')) {
      ctx.status(409);
      return 'no session';
    }
    session.increment('n');
    return 'ok';
  });
  app.get('/login', async ctx => {
    await ctx.session();
    await ctx.changeSessionId();
    return 'ok';
  });
  return app;
}

/** A GET with exactly this session cookie (or none), not through a cookie jar. */
export async function getWith(base: string, path: string, id: string | undefined): Promise<{ status: number; text: string; id: string | undefined }> {
  const response = await fetch(base + path, id === undefined ? {} : { headers: { cookie: `sid=${id}` } });
  const text = await response.text();
  const set = response.headers.getSetCookie().find(header => header.startsWith('sid='));
  return { status: response.status, text, id: set?.slice('sid='.length, set.indexOf(';')) };
}

/** What an incrementing load saw (incrementLoad). */
export interface IncrementLoad {
  /** The sessions, one per client, each logged in (`/start`). */
  ids: string[];
  /** Per client, the increments answered 200. */
  acknowledged: number[];
  /** How many answers had each status. */
  statuses: Map<number, number>;
  /** The slowest answer, ms. */
  worstMs: number;
  /** When each 200 came back (performance.now()), in order. */
  okAt: number[];
  /** Stops the clients (each finishes its request in flight). */
  stop(): Promise<void>;
  /** Asserts every client's stored count is at least what it was acknowledged: nothing acknowledged was lost. */
  assertNoneLost(): Promise<void>;
}

/**
 * `clients` logged-in clients each incrementing their own counter through `/inc` (redisApp's
 * routes at `base`) until stopped, pausing 20 ms after an answer that is not a 200: the load the
 * fault tests (partition, resharding) put on the app while the fault happens.
 */
export async function incrementLoad(base: string, clients: number): Promise<IncrementLoad> {
  const ids: string[] = [];
  for (let i = 0; i < clients; i++) ids.push((await getWith(base, '/start', undefined)).id!);
  let running = true;
  let loops: Promise<void>[] = [];
  const load: IncrementLoad = {
    ids,
    acknowledged: new Array(clients).fill(0),
    statuses: new Map(),
    worstMs: 0,
    okAt: [],
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
    assertNoneLost: async () => {
      for (let i = 0; i < clients; i++) {
        const stored = Number((await getWith(base, '/count', ids[i])).text);
        assert.ok(stored >= load.acknowledged[i]!, `client ${i}: ${load.acknowledged[i]} acknowledged, ${stored} stored`);
      }
    },
  };
  loops = ids.map(async (id, i) => {
    while (running) {
      const start = performance.now();
      const { status } = await getWith(base, '/inc', id);
      const end = performance.now();
      load.worstMs = Math.max(load.worstMs, end - start);
      load.statuses.set(status, (load.statuses.get(status) ?? 0) + 1);
      if (status === 200) {
        load.acknowledged[i]!++;
        load.okAt.push(end);
      } else {
        await sleep(20);
      }
    }
  });
  return load;
}
