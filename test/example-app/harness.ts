/**
 * Serves the example app for its tests, built as `npm start` builds it: from the repository's own
 * config.yml, with SESSION_ENGINE (and REDIS_URL, pointing at a redis-server of the test's own)
 * choosing the engine — so the tests also prove that config.yml runs on both engines.
 */
import { fileURLToPath } from 'node:url';
import { suite, type Test } from 'uvu';
import { createApp, loadConfig, type App } from 'quickstep';
import { testClient, type TestClient } from 'quickstep/testing';
import type { AuditOptions } from 'quickstep/asvs';
import { defineRoutes } from '../../example-app/routes.ts';
import { storeOf } from '../support/engine-calls.ts';
import { certificate } from '../support/certificate.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { startTlsProxy } from '../support/tls-proxy.ts';

export type Engine = 'Memory' | 'Redis';
export const ENGINES: readonly Engine[] = ['Memory', 'Redis'];
/** The session cookie over plain http (over HTTPS it is `__Host-sid`). */
export const COOKIE = 'sid';
/** The browser's CSRF cookie, for the login form of a visitor without a session. */
export const CSRF_COOKIE = `${COOKIE}.csrf`;

/** The repository root, where config.yml is. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The example app as config.yml makes it for `engine`; `env` adds to the environment config.yml reads. */
export function exampleApp(engine: Engine, redisUrl?: string, env: Record<string, string> = {}): App {
  const all = { ...process.env, LOG_LEVEL: 'warning', SESSION_ENGINE: engine, ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }), ...env };
  return defineRoutes(createApp(loadConfig({ dir: ROOT, environment: 'development', env: all })));
}

/**
 * The example app described for the ASVS audit (test/asvs/example-app.test.ts, and the Quickstep
 * column of bench/asvs/): its forms carry the token in `_csrf`; /whoami shows the user.
 */
export const EXAMPLE_APP: AuditOptions = {
  login: { path: '/login', fields: { user: 'asvs-audit' }, csrf: { page: '/' } },
  logout: { path: '/logout', csrf: { page: '/' } },
  loggedIn: { path: '/whoami', pattern: '"user":"asvs-audit"' },
  sessions: { path: '/sessions', endOthers: { path: '/sessions/others-out', csrf: { page: '/sessions' } } },
};

/** A running example app on an engine; `stop()` stops the app, its proxy and its redis-server. */
export interface Served {
  app: App;
  /** Where a client reaches it: the app, or the proxy in front of it. */
  url: string;
  /** Over TLS: the certificate a client must trust. */
  ca?: string;
  stop(): Promise<void>;
}

/**
 * How a client reaches the app: plain http (development on localhost), HTTPS served by the app
 * itself (`listen` with `tls`), or HTTPS through a TLS-terminating proxy the app trusts
 * (`TRUST_PROXY=true`, `X-Forwarded-Proto: https`), as most deployments run it.
 */
export type Transport = 'http' | 'tls' | 'proxy';

/** Starts the example app on `engine` (and a redis-server for it) on a free loopback port. */
export async function serve(engine: Engine, options: { over?: Transport; env?: Record<string, string> } = {}): Promise<Served> {
  const over = options.over ?? 'http';
  const redis: RedisServer | undefined = engine === 'Redis' ? await startRedis() : undefined;
  const app = exampleApp(engine, redis?.url, { ...(over === 'proxy' ? { TRUST_PROXY: 'true' } : {}), ...options.env });
  const tls = over === 'http' ? undefined : certificate();
  const { url } = await app.listen(0, '127.0.0.1', over === 'tls' && tls !== undefined ? { tls } : {});
  const proxy = over === 'proxy' ? await startTlsProxy(url, tls!) : undefined;
  const stop = async () => {
    await proxy?.stop();
    await app.close();
    await redis?.stop();
  };
  return { app, url: proxy?.url ?? url, ...(tls === undefined ? {} : { ca: tls.cert }), stop };
}

/** What every test of an engine suite gets: the app and a client whose jar is never used. */
export interface Ctx {
  app: App;
  client: TestClient;
  /** The suite's redis-server on the Redis engine (for commandstats), else undefined. */
  redis: RedisServer | undefined;
}

/**
 * `example app :: <engine>`, serving the app for its tests. The Redis one is skipped without
 * redis-server, except under CI=true, where that fails (see redisSuite).
 */
export function engineSuite(engine: Engine, topic = ''): Test<Ctx> {
  const name = `example app${topic && ` ${topic}`} :: ${engine}`;
  const test = engine === 'Redis' ? redisSuite<Ctx>(name, {} as Ctx) : suite<Ctx>(name, {} as Ctx);
  let redis: RedisServer | undefined;
  test.before(async ctx => {
    redis = engine === 'Redis' ? await startRedis() : undefined;
    ctx.redis = redis;
    ctx.app = exampleApp(engine, redis?.url);
    ctx.client = await testClient(ctx.app);
  });
  test.after(async ctx => {
    await ctx.client?.close();
    await redis?.stop();
  });
  return test;
}

/** A new "browser" with an empty cookie jar, on the suite's server. */
export const browser = (ctx: Ctx): TestClient => ctx.client.fork();

/** How many sessions the engine holds (all of them: each suite has a store of its own). */
export async function storedSessions(ctx: Ctx): Promise<number> {
  let count = 0;
  for await (const _ of storeOf(ctx.app).sessions()) count++;
  return count;
}

/**
 * The CSRF token of `client`'s session, as a browser gets it: from the hidden `_csrf` field of
 * the page at `path` (the home page: the login form, or the logout form once logged in). Before
 * login it is the browser's token (in its CSRF cookie), and no session is stored.
 */
export async function formToken(client: TestClient, path = '/'): Promise<string> {
  const page = await client.get(path);
  const token = /<input type="hidden" name="_csrf" value="([A-Za-z0-9_-]+)">/.exec(page.text)?.[1];
  if (token === undefined) throw new Error(`GET ${path} answered ${page.status} without a _csrf field: ${page.text}`);
  return token;
}

/** A browser that logged in as `user` (and the id of its session), through the login form. */
export async function loggedIn(ctx: Ctx, user: string): Promise<{ client: TestClient; id: string }> {
  const client = browser(ctx);
  const res = await client.post('/login', { form: { user, _csrf: await formToken(client) } });
  if (res.status !== 303) throw new Error(`login as ${JSON.stringify(user)} answered ${res.status}: ${res.text}`);
  return { client, id: client.jar.get(COOKIE)!.value };
}

/** The Cookie header of a session id, to replay an id the client no longer holds. */
export const cookieFor = (id: string): Record<string, string> => ({ cookie: `${COOKIE}=${id}` });
