/**
 * The Cookie engine behind real apps, over HTTP (issue 15): the session lives in the cookie,
 * keys rotate, both expiries hold inside the seal, an oversize session is a 413 that keeps the
 * browser's cookie, and a bad cookie is simply no session.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, createApp, loadConfig, SessionTooLargeError, type App } from '../../src/index.ts';
import { CookieEngine } from '../../src/session/engines/cookie/cookie.ts';
import { testClient, type TestClient, type TestResponse } from '../../src/testing.ts';
import { stderrOf } from '../support/stderr.ts';

const NAME = 'sid';
const secret = (tag: string) => tag.padEnd(12, '-') + randomBytes(24).toString('base64url');
const NEW = secret('new');
const OLD = secret('old');
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** An app on the Cookie engine with `options` under engines.session.Cookie. */
function cookieApp(options: Record<string, unknown> = {}, log: 'none' | 'debug' | 'info' = 'none'): App {
  const app = createApp({ log, environment: 'production', session: 'Cookie', engines: { session: { Cookie: { secret_key: NEW, ...options } } } });
  app.get('/all', async ctx => ({ id: (await ctx.findSession())?.id ?? null, data: (await ctx.findSession())?.toJSON() ?? null }));
  app.get('/read', async ctx => JSON.stringify((await ctx.session('user')) ?? null));
  app.get('/set/:key/:value', async ctx => {
    await ctx.session(ctx.param('key') as string, ctx.param('value'));
    return 'ok';
  });
  app.get('/big/:key', async ctx => {
    await ctx.session(ctx.param('key') as string, 'x'.repeat(Number(ctx.query.n)));
    return 'ok';
  });
  app.get('/login/:user', async ctx => {
    await ctx.session('user', ctx.param('user'));
    return ctx.changeSessionId();
  });
  app.get('/logout', async ctx => {
    await ctx.destroySession();
    return 'bye';
  });
  app.get('/flash', async ctx => {
    await ctx.flash('notice', 'Saved');
    return 'ok';
  });
  app.get('/notice', async ctx => JSON.stringify((await ctx.flash('notice')) ?? null));
  // Two requests that both open the session before either writes (see the concurrency test).
  app.get('/together/:key', async ctx => {
    const session = await ctx.session();
    await new Promise<void>(resolve => {
      arrived.push(resolve);
      if (arrived.length === 2) for (const go of arrived.splice(0)) go();
    });
    session.set(ctx.param('key') as string, 'written');
    return 'ok';
  });
  return app;
}

const arrived: (() => void)[] = [];

/** Runs `body` with a client of a fresh app (closed after). */
async function withClient(app: App, body: (client: TestClient) => Promise<void>): Promise<void> {
  const client = await testClient(app);
  try {
    await body(client);
  } finally {
    await client.close();
  }
}

/** The session cookie a response set, or undefined. */
const sessionCookie = (res: TestResponse) => res.setCookie(NAME)?.value;
const withCookie = (value: string) => ({ headers: { cookie: `${NAME}=${value}` } });

const test = suite('Cookie engine :: apps over HTTP');

test('the session is in the cookie: a write sets it, a read needs no server, read-only requests send nothing', async () => {
  let cookie = '';
  await withClient(cookieApp(), async client => {
    assert.is((await client.get('/read')).setCookies.length, 0, 'no session, no cookie');
    const res = await client.get('/set/user/ann');
    cookie = sessionCookie(res)!;
    assert.match(cookie, /^v1\./);
    assert.not.match(cookie, /ann/);
    const read = await client.get('/read');
    assert.is(read.text, '"ann"');
    assert.is(read.setCookies.length, 0, 'a read-only request with a fresh cookie sends no cookie');
  });
  // Another app (another process, another worker) with the same secret opens it: no shared state.
  await withClient(cookieApp(), async client => {
    assert.is((await client.get('/read', withCookie(cookie))).text, '"ann"');
  });
});

test('rotation :: a cookie sealed with the old key opens with [new, old]; its next write reseals with the new key', async () => {
  let oldCookie = '';
  await withClient(cookieApp({ secret_key: OLD }), async client => {
    oldCookie = sessionCookie(await client.get('/set/user/ann'))!;
  });
  let resealed = '';
  await withClient(cookieApp({ secret_key: undefined, secret_keys: [NEW, OLD] }), async client => {
    const read = await client.get('/read', withCookie(oldCookie));
    assert.is(read.text, '"ann"', 'the old key still opens');
    const write = await client.get('/set/theme/dark', withCookie(oldCookie));
    resealed = sessionCookie(write)!;
    assert.ok(resealed && resealed !== oldCookie);
  });
  await withClient(cookieApp({ secret_key: NEW }), async client => {
    assert.equal((await client.get('/all', withCookie(resealed))).json().data, { user: 'ann', theme: 'dark' }, 'the new key alone opens the resealed cookie');
    const old = await client.get('/read', withCookie(oldCookie));
    assert.is(old.text, 'null', 'with the old key removed, the old cookie is no session');
  });
});

test('idle expiry :: inside the seal; reads reseal only past half the window; a replayed old cookie is unknown', async () => {
  await withClient(cookieApp({ session_duration: 2 }), async client => {
    const first = sessionCookie(await client.get('/set/user/ann'))!;
    assert.is((await client.get('/read')).setCookies.length, 0, 'a fresh cookie is not resealed on a read');
    await sleep(1200);
    const late = await client.get('/read');
    assert.is(late.text, '"ann"');
    assert.ok(sessionCookie(late), 'less than half the idle window left: the read reseals');
    await sleep(1200);
    assert.is((await client.get('/read')).text, '"ann"', 'alive 2.4 s after the write: the read slid it');
    assert.is((await client.get('/read', withCookie(first))).text, 'null', 'the first cookie, replayed past its own expiry, is unknown');
    await sleep(2100);
    const gone = await client.get('/read');
    assert.is(gone.text, 'null', 'idle for longer than session_duration');
  });
});

test('absolute expiry :: from creation, kept by every reseal; a replayed cookie past it is unknown', async () => {
  await withClient(cookieApp({ session_duration: 60, absolute_duration: 2 }), async client => {
    const first = sessionCookie(await client.get('/set/user/ann'))!;
    await sleep(800);
    await client.get('/set/n/1');
    await sleep(800);
    assert.is((await client.get('/read')).text, '"ann"', 'in use and young enough');
    await sleep(600);
    assert.is((await client.get('/read')).text, 'null', 'past absolute_duration however recently used');
    assert.is((await client.get('/read', withCookie(first))).text, 'null', 'the first cookie replayed');
  });
});

test('oversize :: the write is a 413 naming the size and a store; the browser keeps its previous cookie', async () => {
  await withClient(cookieApp(), async client => {
    await client.get('/set/user/ann');
    const before = client.jar.get(NAME)?.value;
    assert.is((await client.get('/big/note?n=2500')).status, 200, 'a 2.5 KB session fits');
    const kept = client.jar.get(NAME)?.value;
    assert.is.not(kept, before);
    const res = await client.get('/big/blob?n=4000');
    assert.is(res.status, 413);
    assert.match(res.text, /session cookie would be \d{4} bytes/);
    assert.match(res.text, /4096/);
    assert.match(res.text, /Memory or Redis/);
    assert.is(res.setCookies.length, 0, 'no cookie a browser would drop');
    assert.is(client.jar.get(NAME)?.value, kept);
    assert.equal((await client.get('/all')).json().data, { user: 'ann', note: 'x'.repeat(2500) }, 'the previous cookie still opens');
  });
});

test('oversize :: counts the attributes (a long Domain, an Expires) and is a SessionTooLargeError', async () => {
  await withClient(cookieApp(), async client => {
    assert.is((await client.get('/big/blob?n=2850')).status, 200, 'fits without the attributes');
  });
  const app = cookieApp({ cookie_domain: Array(3).fill('d'.repeat(60)).join('.') + '.example', cookie_duration: 3600 });
  let caught: unknown;
  app.hook('before_error', (ctx, error) => void (caught = error));
  await withClient(app, async client => {
    const res = await client.get('/big/blob?n=2850');
    assert.is(res.status, 413, 'not with them');
    assert.ok(caught instanceof SessionTooLargeError);
  });
});

test('destroy :: the cookie is expired; a replayed copy still opens until it expires (no server state)', async () => {
  await withClient(cookieApp(), async client => {
    const cookie = sessionCookie(await client.get('/set/user/ann'))!;
    const bye = await client.get('/logout');
    assert.is(bye.setCookie(NAME)?.maxAge, 0);
    assert.is((await client.get('/read')).text, 'null', 'the browser dropped it');
    assert.is((await client.get('/read', withCookie(cookie))).text, '"ann"', 'documented: nothing on the server can revoke a copy');
  });
});

test('changeSessionId :: a new id inside a new seal, data and creation time kept', async () => {
  await withClient(cookieApp(), async client => {
    await client.get('/set/theme/dark');
    const before = (await client.get('/all')).json().id;
    const res = await client.get('/login/ann');
    assert.is.not(res.text, before);
    assert.ok(sessionCookie(res));
    assert.equal((await client.get('/all')).json(), { id: res.text, data: { theme: 'dark', user: 'ann' } });
  });
});

test('concurrent writes :: not merged, each response carries its own cookie and the last one kept wins (declared)', async () => {
  await withClient(cookieApp(), async client => {
    const cookie = sessionCookie(await client.get('/set/user/ann'))!;
    const [a, b] = await Promise.all([client.get('/together/a', withCookie(cookie)), client.get('/together/b', withCookie(cookie))]);
    const opened = await Promise.all([a, b].map(async res => (await client.get('/all', withCookie(sessionCookie(res)!))).json().data));
    assert.equal(opened, [{ user: 'ann', a: 'written' }, { user: 'ann', b: 'written' }], 'neither cookie holds both writes');
  });
});

test('flash :: shown once (a read and a delete in the change log)', async () => {
  await withClient(cookieApp(), async client => {
    await client.get('/flash');
    assert.is((await client.get('/notice')).text, '"Saved"');
    assert.is((await client.get('/notice')).text, 'null');
  });
});

test('a tampered, foreign or garbage cookie is no session: 200, an expired cookie, nothing above debug logged', async () => {
  let good = '';
  await withClient(cookieApp(), async client => {
    good = sessionCookie(await client.get('/set/user/ann'))!;
  });
  const bad = [good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A'), good.slice(0, 40), 'v2.' + good.slice(3), 'garbage', new CookieEngine([OLD]).sealCookie('x'.repeat(32), '{}', 60)];
  const quiet = await stderrOf(() => withClient(cookieApp({}, 'info'), async client => {
    for (const value of bad) {
      const res = await client.get('/read', withCookie(value));
      assert.is(res.status, 200);
      assert.is(res.text, 'null', value.slice(0, 20));
      assert.is(res.setCookie(NAME)?.maxAge, 0, 'the browser is told to drop it');
    }
  }));
  assert.is(quiet, '', 'nothing logged at info');
  const debug = await stderrOf(() => withClient(cookieApp({}, 'debug'), async client => {
    await client.get('/read', withCookie(bad[0]!));
  }));
  assert.match(debug, /did not open/);
});

test('a sealed id of the wrong shape is refused like any bad id', async () => {
  const forged = new CookieEngine([NEW]).sealCookie('not-an-id', '{"user":"eve"}', 60);
  await withClient(cookieApp(), async client => {
    assert.is((await client.get('/read', withCookie(forged))).text, 'null');
  });
});

test.run();

const config = suite('Cookie engine :: config.yml');
const dirs: string[] = [];
config.after(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** loadConfig on a config.yml holding `yaml`, with only `env` as the environment. */
function load(yaml: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-cookie-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.yml'), yaml);
  return loadConfig({ dir, env });
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

config('no secret_key :: a ConfigError naming the file and key; never a built-in default', () => {
  const error = configError(() => load('session: Cookie\n'));
  assert.is(error.file, 'config.yml');
  assert.is(error.key, 'engines.session.Cookie.secret_key');
  assert.match(error.message, /at least 32 bytes/);
  assert.match(error.message, /SESSION_SECRET/);
});

config('a short secret_key or secret_keys item :: a ConfigError with its length, not its text', () => {
  const short = configError(() => load('session: Cookie\nengines:\n  session:\n    Cookie:\n      secret_key: tooshort-but-secret\n'));
  assert.is(short.key, 'engines.session.Cookie.secret_key');
  assert.match(short.message, /this one has 19/);
  assert.not.match(short.message, /tooshort/, 'the secret is not shown');
  const item = configError(() => load(`session: Cookie\nengines:\n  session:\n    Cookie:\n      secret_keys: ["${NEW}", "old-and-short"]\n`));
  assert.is(item.key, 'engines.session.Cookie.secret_keys[1]');
  const both = configError(() => load(`session: Cookie\nengines:\n  session:\n    Cookie:\n      secret_key: "${NEW}"\n      secret_keys: ["${OLD}"]\n`));
  assert.is(both.key, 'engines.session.Cookie.secret_keys');
});

config('secret_key: ${SESSION_SECRET} :: read from the environment; unset is a ConfigError', () => {
  const yaml = 'session: Cookie\nengines:\n  session:\n    Cookie:\n      secret_key: ${SESSION_SECRET}\n';
  assert.is(load(yaml, { SESSION_SECRET: NEW }).session.engineName, 'Cookie');
  assert.match(configError(() => load(yaml)).message, /SESSION_SECRET/);
});

config.run();
