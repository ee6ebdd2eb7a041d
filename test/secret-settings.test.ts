/** Secrets stay out of what config errors show: a ConfigError about a secret does not print it. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, type SettingsInput } from '../src/config.ts';
import { createApp } from '../src/create-app.ts';
import { ConfigError } from '../src/errors.ts';
import { isSecretSetting, withoutUrlPassword } from '../src/secret-settings.ts';
import { removeDir, siteDir } from './support/site-dir.ts';

const COOKIE_SECRET = 'cookie-secret-do-not-show-0123456789abcdef';
const OLD_SECRET = 'old-cookie-secret-do-not-show-0123456789ab';
const PASSWORD = 'hunter2';

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
    'config.yml': `session: Cookie\nengines:\n  session:\n    Cookie:\n      secret_keys:\n        - ${COOKIE_SECRET}\n        - "${OLD_SECRET}\${"\n`,
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
  assert.is(withoutUrlPassword('redis://host:6379'), 'redis://host:6379');
  assert.is(withoutUrlPassword('not a url: a@b'), 'not a url: a@b');
});

errors.run();
names.run();
