/**
 * Secrets stay out of what user code, templates, logs and config errors show: `setting('session')`
 * is the engine's name, a template that dumps `settings` shows no Cookie secret and no Redis
 * password, an outage line names Redis without its password, and a ConfigError about a secret
 * does not print it. The app itself still runs on the real values.
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { App } from '../../src/server/app.ts';
import { loadConfig, type SettingsInput } from '../../src/config/config.ts';
import { createApp } from '../../src/create-app.ts';
import { config, setting, template } from '../../src/dsl.ts';
import { ConfigError } from '../../src/base/errors.ts';
import { isSecretSetting, withoutUrlPassword } from '../../src/base/secret-names.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { withClient } from '../support/serve.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';
import { stderrOf } from '../support/stderr.ts';

const COOKIE_SECRET = 'cookie-secret-do-not-show-0123456789abcdef';
const OLD_SECRET = 'old-cookie-secret-do-not-show-0123456789ab';
const PASSWORD = 'hunter2';

/** An app whose `/dump` renders every setting as JSON, `/session` answers setting('session'). */
function dumpingApp(settings: SettingsInput): { app: App; root: string } {
  const root = siteDir({ 'views/dump.eta': '<pre><%= JSON.stringify(it.settings) %></pre>' });
  const app = createApp({ log: 'none', views: join(root, 'views'), public_dir: join(root, 'public'), ...settings });
  app.get('/dump', () => template('dump', {}, { layout: false }));
  app.get('/session', ctx => JSON.stringify([setting('session'), ctx.setting('session'), config().session]));
  app.get('/engines', () => JSON.stringify(setting('engines')));
  app.get('/count', async ctx => String(await ctx.increment('visits')));
  return { app, root };
}

const unescape = (html: string) => html.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');

const views = suite('secret settings :: what user code and templates see');

views('setting("session") is the engine name on Memory and Cookie (inside a request, on ctx, in config())', async () => {
  const cases: [SettingsInput, string][] = [
    [{}, 'Memory'],
    [{ session: 'memory' }, 'Memory'],
    [{ session: 'Cookie', engines: { session: { Cookie: { secret_key: COOKIE_SECRET, revocation: false } } } }, 'Cookie'],
  ];
  for (const [settings, name] of cases) {
    const { app, root } = dumpingApp(settings);
    await withClient(app, async client => assert.equal(JSON.parse((await client.get('/session')).text), [name, name, name]));
    removeDir(root);
  }
});

views('a template that dumps settings shows no Cookie secret; the engine block shows it as hidden; sessions still work', async () => {
  const { app, root } = dumpingApp({ session: 'Cookie', engines: { session: { Cookie: { secret_keys: [COOKIE_SECRET, OLD_SECRET], cookie_name: 'shop', revocation: false } } } });
  await withClient(app, async client => {
    const dump = await client.get('/dump');
    assert.is(dump.status, 200);
    assert.not.match(dump.text, 'do-not-show');
    const shown = JSON.parse(unescape(dump.text).replace(/^<pre>|<\/pre>$/g, ''));
    assert.is(shown.session, 'Cookie');
    assert.equal(shown.engines.session.Cookie.secret_keys, ['[hidden]', '[hidden]'], 'a rotation still shows how many keys');
    assert.is(shown.engines.session.Cookie.cookie_name, 'shop', 'what is not secret stays readable');
    const engines = JSON.parse((await client.get('/engines')).text);
    assert.equal(engines.session.Cookie.secret_keys, ['[hidden]', '[hidden]']);
    assert.equal(engines.template, { Eta: { extension: '.eta' } });
    // The engine got the real secrets: it seals, and opens its own cookie on the next request.
    assert.is((await client.get('/count')).text, '1');
    assert.is((await client.get('/count')).text, '2');
  });
  assert.is((app.settings.session.engineOptions as { secret_keys: string[] }).secret_keys[0], COOKIE_SECRET, 'the app itself keeps the real value');
  removeDir(root);
});

views('what setting() returns cannot be changed by a request for the ones after it', async () => {
  const { app, root } = dumpingApp({});
  app.get('/change', () => {
    const all = config() as unknown as Record<string, unknown>;
    try {
      all.port = 1;
    } catch {
      return 'refused';
    }
    return 'changed';
  });
  await withClient(app, async client => {
    assert.is((await client.get('/change')).text, 'refused');
  });
  removeDir(root);
});

const errors = suite('secret settings :: config errors never print a secret');

/** The ConfigError createApp throws for `settings`. */
function configError(settings: SettingsInput): ConfigError {
  try {
    createApp({ log: 'none', ...settings });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

errors('a too-short secret_key is reported by its length, not its value', () => {
  const error = configError({ session: 'Cookie', engines: { session: { Cookie: { secret_key: 'short-but-secret' } } } });
  assert.match(error.message, 'engines.session.Cookie.secret_key');
  assert.match(error.message, 'this one has 16');
  assert.not.match(error.message, 'short-but-secret');
});

errors('a secret of the wrong type (a YAML number) says what it was, not the value', () => {
  const key = configError({ session: 'Cookie', engines: { session: { Cookie: { secret_key: 31415926535897932 as never } } } });
  assert.match(key.message, /engines\.session\.Cookie\.secret_key: expected a string, got a number \(not shown: a secret\)/);
  assert.not.match(key.message, '31415926');
  const password = configError({ engines: { session: { Redis: { password: 8675309 as never } } } });
  assert.match(password.message, 'engines.session.Redis.password');
  assert.not.match(password.message, '8675309');
});

errors('a bad Redis URL is shown without its password', () => {
  const scheme = configError({ engines: { session: { Redis: { url: `http://:${PASSWORD}@127.0.0.1:6379` } } } });
  assert.match(scheme.message, 'engines.session.Redis.url');
  assert.match(scheme.message, 'http://:[hidden]@127.0.0.1:6379', 'the rest of the URL is still there to see the mistake');
  assert.not.match(scheme.message, PASSWORD);
  const database = configError({ engines: { session: { Redis: { url: `redis://user:${PASSWORD}@127.0.0.1:6379/99` } } } });
  assert.match(database.message, 'redis://user:[hidden]@127.0.0.1:6379/99');
  assert.not.match(database.message, PASSWORD);
});

errors('a secret in config.yml that is not a valid ${VAR} reference is not printed, nor is one in a list', () => {
  const root = siteDir({
    'config.yml': `session: Cookie\nengines:\n  session:\n    Cookie:\n      secret_keys:\n        - ${COOKIE_SECRET}\n        - "${OLD_SECRET}\${"\n      revocation: false\n`,
  });
  try {
    loadConfig({ dir: root, env: {} });
    assert.unreachable('a ConfigError');
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.match((error as ConfigError).message, /config\.yml: engines\.session\.Cookie\.secret_keys\.1: expected \$\{NAME\}.*, got a string \(not shown: a secret\)/);
    assert.not.match((error as ConfigError).message, 'do-not-show');
  } finally {
    removeDir(root);
  }
});

const names = suite('secret settings :: which settings are secret');

names('secret keys, passwords, tokens and TLS keys are; names, prefixes and timeouts are not', () => {
  for (const key of ['secret_key', 'secret_keys', 'password', 'sentinel_password', 'sentinelPassword', 'key', 'passphrase', 'api_token', 'pfx']) {
    assert.ok(isSecretSetting(key), key);
  }
  for (const key of ['key_prefix', 'cookie_name', 'url', 'server', 'name', 'command_timeout', 'hash_ids', 'extension']) {
    assert.not.ok(isSecretSetting(key), key);
  }
});

names('a URL keeps everything but its password', () => {
  assert.is(withoutUrlPassword(`redis://:${PASSWORD}@host:6379/2`), 'redis://:[hidden]@host:6379/2');
  assert.is(withoutUrlPassword(`rediss://ann:${PASSWORD}@host`), 'rediss://ann:[hidden]@host');
  assert.is(withoutUrlPassword('https://token123@example.com/x'), 'https://[hidden]@example.com/x', 'userinfo alone may be a token');
  assert.is(withoutUrlPassword('redis://:p@ss/w#rd@host'), 'redis://:[hidden]@host', 'an unencoded @ or / in a password');
  assert.is(withoutUrlPassword('rediss://:s3cret x@host:6380/0'), 'rediss://:[hidden]@host:6380/0', 'a space in a password: the URL is invalid, and its ConfigError prints it');
  assert.is(withoutUrlPassword('redis://host:6379'), 'redis://host:6379');
  assert.is(withoutUrlPassword('not a url: a@b'), 'not a url: a@b');
});

const redis = redisSuite<{ redis: RedisServer }>('secret settings :: Redis with a password', {} as never);
redis.before(async context => {
  context.redis = await startRedis({ args: ['--requirepass', PASSWORD] });
});
redis.after(async ({ redis }) => {
  await redis?.stop();
});

redis('the app works on a URL with a password; setting("session") is "Redis"; no dump and no outage line shows the password', async ({ redis }) => {
  const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
  const { app, root } = dumpingApp({ log: 'error', session: 'Redis', engines: { session: { Redis: { url, command_timeout: 300, key_prefix: 'secrets:' } } } });
  const logged = await stderrOf(() =>
    withClient(app, async client => {
      assert.is((await client.get('/count')).text, '1');
      assert.is((await client.get('/count')).text, '2', 'the password reached Redis: the session was stored');
      assert.equal(JSON.parse((await client.get('/session')).text), ['Redis', 'Redis', 'Redis']);
      const dump = await client.get('/dump');
      assert.not.match(dump.text, PASSWORD);
      assert.match(unescape(dump.text), `"url":"redis://:[hidden]@127.0.0.1:${redis.port}"`);
      await redis.stop();
      assert.is((await client.get('/count')).status, 503);
    }),
  );
  assert.match(logged, 'is unreachable', 'the outage was logged');
  assert.not.match(logged, PASSWORD);
  removeDir(root);
});

views.run();
errors.run();
names.run();
redis.run();
