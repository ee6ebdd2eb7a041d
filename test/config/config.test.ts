import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import { MemoryEngine, storedMemoryEngine } from '../../src/session/engines/memory/memory.ts';
import { registerSessionEngine } from '../../src/session/engine-registry.ts';
import * as assert from 'uvu/assert';
import { loadConfig, readSettings } from '../../src/config/config.ts';
import { ConfigError } from '../../src/base/errors.ts';

const made: string[] = [];

/** A fresh config directory holding `files` (path relative to it -> text). */
function confdir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-config-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Loads `files` with only `env` as the process environment. */
function load(files: Record<string, string>, env: Record<string, string> = {}, environment?: string) {
  return loadConfig({ dir: confdir(files), env, ...(environment === undefined ? {} : { environment }) });
}

/** Runs `fn`, expects a ConfigError naming `file` and `key` (and `fragments`) and returns it. */
function fails(fn: () => unknown, file: string, key: string, ...fragments: string[]): ConfigError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.is(error.file, file);
    assert.is(error.key, key);
    assert.ok(error.message.startsWith(`${file}: `), error.message);
    if (key) assert.ok(error.message.includes(key), error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${error.message} lacks ${fragment}`);
    return error;
  }
  assert.unreachable('expected a ConfigError');
  throw new Error('unreachable');
}

const cleanup = () => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
};

const files = suite('loadConfig() files');
files.after(cleanup);

files('defaults :: no config file at all', () => {
  const settings = load({});
  assert.is(settings.port, 3000);
  assert.is(settings.host, '127.0.0.1');
  assert.is(settings.log, 'info');
  assert.is(settings.max_body_size, 1048576);
  assert.is(settings.environment, 'development');
  assert.is(settings.show_errors, true);
  assert.is(settings.session.engineName, 'Memory');
  assert.is(settings.session.policy.cookie_name, 'sid');
  assert.is(settings.session.policy.cookie_same_site, 'Lax');
});

files('defaults :: an empty config.yml', () => {
  assert.is(load({ 'config.yml': '' }).port, 3000);
});

files('defaults :: production hides errors', () => {
  const settings = load({}, { DANCER_ENVIRONMENT: 'production' });
  assert.is(settings.environment, 'production');
  assert.is(settings.show_errors, false);
});

files('show_errors :: true in config.yml is refused outside development, naming the file and where to move it', () => {
  const files = { 'config.yml': 'show_errors: true\n', 'environments/production.yml': 'log: warning\n' };
  fails(() => load(files, { DANCER_ENVIRONMENT: 'production' }), 'config.yml', 'show_errors', '"production"', 'environments/development.yml', 'got true');
  assert.is(load(files).show_errors, true, 'development reads the same file');
  assert.is(load({ ...files, 'environments/production.yml': 'show_errors: false\n' }, { DANCER_ENVIRONMENT: 'production' }).show_errors, false);
  fails(() => load({ 'environments/staging.yml': 'show_errors: ${SHOW:-true}\n' }, { DANCER_ENVIRONMENT: 'staging' }), 'environments/staging.yml', 'show_errors');
});

files('dir :: DANCER_CONFDIR is used when no dir is given', () => {
  const dir = confdir({ 'config.yml': 'port: 4000\n' });
  assert.is(loadConfig({ env: { DANCER_CONFDIR: dir } }).port, 4000);
});

files('dir :: the dir option wins over DANCER_CONFDIR', () => {
  const dir = confdir({ 'config.yml': 'port: 4001\n' });
  const other = confdir({ 'config.yml': 'port: 4002\n' });
  assert.is(loadConfig({ dir, env: { DANCER_CONFDIR: other } }).port, 4001);
});

files('dir :: a missing directory is an error, not silent defaults', () => {
  fails(() => loadConfig({ env: { DANCER_CONFDIR: join(tmpdir(), 'quickstep-no-such-dir') } }), 'DANCER_CONFDIR', 'dir', 'existing directory');
});

files('environment :: its file overrides scalars and merges mappings', () => {
  const settings = load(
    {
      'config.yml': 'port: 3000\nhost: 0.0.0.0\nengines:\n  session:\n    Memory: { session_duration: 3600, cookie_name: app }\n',
      'environments/production.yml': 'port: 80\nengines:\n  session:\n    Memory: { session_duration: 60 }\n',
    },
    { DANCER_ENVIRONMENT: 'production' },
  );
  assert.is(settings.port, 80);
  assert.is(settings.host, '0.0.0.0');
  assert.is(settings.session.policy.session_duration, 60);
  assert.is(settings.session.policy.cookie_name, 'app');
});

files('environment :: the option wins over DANCER_ENVIRONMENT; another env file is not read', () => {
  const settings = load(
    { 'environments/production.yml': 'port: 80\n', 'environments/staging.yml': 'port: 81\n' },
    { DANCER_ENVIRONMENT: 'production' },
    'staging',
  );
  assert.is(settings.port, 81);
  assert.is(settings.environment, 'staging');
});

files('environment :: an error set in environments/production.yml names that file', () => {
  const config = { 'config.yml': 'port: 3000\nhost: x\n', 'environments/production.yml': 'port: abc\n' };
  fails(() => load(config, { DANCER_ENVIRONMENT: 'production' }), 'environments/production.yml', 'port', '"abc"');
});

files('environment :: an error in a key config.yml set still names config.yml', () => {
  const config = {
    'config.yml': 'engines:\n  session:\n    Memory: { cookie_same_site: Sometimes }\n',
    'environments/production.yml': 'engines:\n  session:\n    Memory: { is_secure: true }\n',
  };
  fails(() => load(config, { DANCER_ENVIRONMENT: 'production' }), 'config.yml', 'engines.session.Memory.cookie_same_site', 'Sometimes');
});

files('environment :: path traversal in the name is rejected', () => {
  fails(() => load({}, { DANCER_ENVIRONMENT: '../../etc/passwd' }), 'DANCER_ENVIRONMENT', 'environment', '../../etc/passwd');
  fails(() => load({}, {}, 'a/b'), '(loadConfig options)', 'environment');
});

files('environment :: an environment key that contradicts the one in use is an error', () => {
  fails(() => load({ 'config.yml': 'environment: production\n' }), 'config.yml', 'environment', 'DANCER_ENVIRONMENT', '"production"');
});

files('yaml :: a syntax error names the file and the line', () => {
  const error = fails(() => load({ 'config.yml': 'port: 3000\nhost: [a\nlog: b: c\n' }), 'config.yml', 'line 3', 'valid YAML');
  assert.not.ok(error.message.includes('\n'), 'one-line message');
});

files('yaml :: a duplicate key is an error', () => {
  fails(() => load({ 'config.yml': 'port: 1\nport: 2\n' }), 'config.yml', 'line 2', 'unique');
});

files('yaml :: a top level that is not a mapping is an error', () => {
  fails(() => load({ 'config.yml': '- port\n- 3000\n' }), 'config.yml', '', 'mapping', 'a list');
  fails(() => load({ 'environments/development.yml': 'just text\n' }), 'environments/development.yml', '', 'mapping');
});

files.run();

const env = suite('loadConfig() ${VAR} interpolation');
env.after(cleanup);

env('env :: default used when unset', () => {
  assert.is(load({ 'config.yml': 'port: ${PORT:-3000}\n' }).port, 3000);
});

env('env :: default used when set but empty, like the shell', () => {
  assert.is(load({ 'config.yml': 'port: ${PORT:-3000}\n' }, { PORT: '' }).port, 3000);
});

env('env :: the variable wins over the default and is read as a number', () => {
  const settings = load({ 'config.yml': 'port: ${PORT:-3000}\n' }, { PORT: '8080' });
  assert.is(settings.port, 8080);
});

env('env :: inside a longer string, in a nested engine block', () => {
  const settings = load(
    { 'config.yml': 'engines:\n  session:\n    Memory:\n      cookie_name: "app-${SUFFIX:-dev}.${HOST:-127.0.0.1}:6379"\n' },
    { HOST: 'cache.local' },
  );
  assert.is(settings.session.policy.cookie_name, 'app-dev.cache.local:6379');
});

env('env :: $${ is a literal ${', () => {
  assert.is(load({ 'config.yml': 'host: "$${HOST}"\n' }, { HOST: 'x' }).host, '${HOST}');
});

env('env :: booleans and the engine name come through too', () => {
  const settings = load(
    { 'config.yml': 'session: ${SESSION_ENGINE:-Memory}\nshow_errors: ${SHOW:-false}\nlog: ${LOG}\n' },
    { SESSION_ENGINE: 'memory', LOG: 'DEBUG' },
  );
  assert.is(settings.session.engineName, 'Memory');
  assert.is(settings.show_errors, false);
  assert.is(settings.log, 'debug');
});

env('env :: an unset variable without a default names file, key path and variable', () => {
  fails(
    () => load({ 'config.yml': 'engines:\n  session:\n    Memory:\n      cookie_domain: ${COOKIE_DOMAIN}\n' }),
    'config.yml',
    'engines.session.Memory.cookie_domain',
    'environment variable COOKIE_DOMAIN to be set',
  );
});

env('env :: the error names the environment file that holds the reference', () => {
  fails(
    () => load({ 'environments/production.yml': 'port: ${PORT}\n' }, {}, 'production'),
    'environments/production.yml',
    'port',
    'environment variable PORT to be set',
  );
});

env('env :: a malformed reference is an error, not left in place', () => {
  fails(() => load({ 'config.yml': 'host: "${HOST"\n' }), 'config.yml', 'host', '$${');
});

env('env :: the result is still checked', () => {
  fails(() => load({ 'config.yml': 'port: ${PORT:-3000}\n' }, { PORT: 'http' }), 'config.yml', 'port', '"http"');
});

env.run();

const checking = suite('loadConfig() checking');
checking.after(cleanup);

checking('keys :: an unknown top-level key is named, with the known ones', () => {
  fails(() => load({ 'config.yml': 'prot: 3000\n' }), 'config.yml', 'prot', 'port', 'host', 'max_body_size', 'engines');
});

checking('types :: port must be a port number', () => {
  fails(() => load({ 'config.yml': 'port: abc\n' }), 'config.yml', 'port', 'an integer from 0 to 65535', 'got "abc"');
  fails(() => load({ 'config.yml': 'port: 70000\n' }), 'config.yml', 'port', '70000');
});

checking('types :: max_body_size must not be negative', () => {
  fails(() => load({ 'config.yml': 'max_body_size: -1\n' }), 'config.yml', 'max_body_size', 'got -1');
});

checking('limits :: max_file_size above max_body_size names both keys (a file is part of the body, so it could never apply)', () => {
  fails(() => load({ 'config.yml': 'max_body_size: 1000\nmax_file_size: 5000\n' }), 'config.yml', 'max_file_size', 'max_body_size', '1000', 'got 5000');
  // The file named is the one that set max_file_size, here under an environment's smaller body.
  const split = { 'config.yml': 'max_file_size: 2000000\n', 'environments/production.yml': 'max_body_size: 1000000\n' };
  fails(() => load(split, {}, 'production'), 'config.yml', 'max_file_size', 'max_body_size', '1000000');
  fails(() => readSettings({ max_file_size: 1048577 }), '(createApp settings)', 'max_file_size', 'max_body_size', '1048576');
  assert.is(load({ 'config.yml': 'max_body_size: 1000\nmax_file_size: 1000\n' }).max_file_size, 1000, 'equal is fine');
  assert.is(load({ 'config.yml': 'max_body_size: 1000\nmax_file_size: 10\n' }).max_file_size, 10);
});

checking('types :: log must be a known level', () => {
  fails(() => load({ 'config.yml': 'log: verbose\n' }), 'config.yml', 'log', '"warning"', '"verbose"');
});

checking('engines :: only session and template keys are allowed under engines', () => {
  fails(() => load({ 'config.yml': 'engines:\n  views: {}\n' }), 'config.yml', 'engines.views', 'session, template');
  fails(() => load({ 'config.yml': 'engines: [session]\n' }), 'config.yml', 'engines', 'a list');
});

checking('engines :: an unknown chosen engine lists the known names', () => {
  fails(() => load({ 'config.yml': 'session: Reddis\n' }), 'config.yml', 'session', 'Memory', '"Reddis"');
});

checking('engines :: an unknown engine block is caught even when not chosen', () => {
  const config = { 'config.yml': 'engines:\n  session:\n    Memory: {}\n    Mongo: { host: x }\n' };
  fails(() => load(config), 'config.yml', 'engines.session.Mongo', 'Memory');
});

checking('engines :: chosen without regard to case, its block found the same way', () => {
  const settings = load({ 'config.yml': 'session: memory\nengines:\n  session:\n    MEMORY: { max_sessions: 5 }\n' });
  assert.is(settings.session.engineName, 'Memory');
  assert.is(settings.session.engineOptions.max_sessions, 5);
});

checking('engines :: a chosen engine without a block gets its defaults', () => {
  const settings = load({ 'config.yml': 'session: Memory\n' });
  assert.is(settings.session.policy.session_duration, 86400);
  assert.type(settings.session.engineOptions.max_sessions, 'number');
});

checking('engines :: two blocks for one engine are an error', () => {
  const config = { 'config.yml': 'engines:\n  session:\n    Memory: {}\n    memory: {}\n' };
  fails(() => load(config), 'config.yml', 'engines.session.memory', 'Memory and memory');
});

checking('engines :: an unknown key under engines.session.Memory', () => {
  const config = { 'config.yml': 'engines:\n  session:\n    Memory: { max_session: 10 }\n' };
  fails(() => load(config), 'config.yml', 'engines.session.Memory.max_session', 'max_sessions', 'cookie_same_site');
});

checking('engines :: a typo in an unused block is still caught', () => {
  const config = { 'config.yml': 'session: Memory\nengines:\n  session:\n    memory: { cookie_nmae: x }\n' };
  fails(() => load(config), 'config.yml', 'engines.session.memory.cookie_nmae');
});

checking('cookie :: cookie_same_site None without is_secure', () => {
  const config = { 'config.yml': 'engines:\n  session:\n    Memory: { cookie_same_site: None }\n' };
  fails(() => load(config), 'config.yml', 'engines.session.Memory.cookie_same_site', 'is_secure');
  const secure = { 'config.yml': 'engines:\n  session:\n    Memory: { cookie_same_site: none, is_secure: true }\n' };
  assert.is(load(secure).session.policy.cookie_same_site, 'None');
});

checking('cookie :: a bad cookie_same_site value', () => {
  const config = { 'config.yml': 'engines:\n  session:\n    Memory: { cookie_same_site: Sometimes }\n' };
  fails(() => load(config), 'config.yml', 'engines.session.Memory.cookie_same_site', '"Strict"', '"Sometimes"');
});

checking('workers :: default 1; a count, or "auto" for one per core', () => {
  assert.is(load({ 'config.yml': 'session: Redis\n' }).workers, 1);
  assert.is(load({ 'config.yml': 'session: Redis\nworkers: 3\n' }).workers, 3);
  assert.is(load({ 'config.yml': 'session: Redis\nworkers: ${WORKERS:-4}\n' }).workers, 4);
  assert.is(load({ 'config.yml': 'session: Redis\nworkers: auto\n' }).workers, availableParallelism());
});

checking('workers :: 0, a negative or a word is named with what is expected', () => {
  const expected = 'an integer of at least 1, or "auto" (one per core)';
  fails(() => load({ 'config.yml': 'session: Redis\nworkers: 0\n' }), 'config.yml', 'workers', expected, 'got 0');
  fails(() => load({ 'config.yml': 'session: Redis\nworkers: -2\n' }), 'config.yml', 'workers', 'got -2');
  fails(() => load({ 'config.yml': 'session: Redis\nworkers: many\n' }), 'config.yml', 'workers', expected, 'got "many"');
  fails(() => load({ 'config.yml': 'session: Redis\nworkers: 1.5\n' }), 'config.yml', 'workers', 'got 1.5');
});

checking('workers :: above 1 (or auto) with Memory says why and what to use instead', () => {
  for (const workers of ['2', 'auto']) {
    fails(() => load({ 'config.yml': `workers: ${workers}\n` }), 'config.yml', 'workers', '1 with the Memory session engine', 'each worker would have its own', 'session: Redis');
  }
  // The file named is the one that set workers, not the one that chose the engine.
  const split = { 'config.yml': 'workers: 2\nsession: Redis\n', 'environments/development.yml': 'session: Memory\n' };
  fails(() => load(split, {}, 'development'), 'config.yml', 'workers', 'Memory');
  assert.is(load({ 'config.yml': 'workers: 1\n' }).workers, 1);
  fails(() => readSettings({ workers: 2 }), '(createApp settings)', 'workers', 'Memory');
});

checking.run();

const code = suite('readSettings()');

code('defaults :: an empty object', () => {
  const settings = readSettings({});
  assert.is(settings.port, 3000);
  assert.is(settings.session.engineName, 'Memory');
});

code('values :: as given, engine options included', () => {
  const settings = readSettings({
    port: 0,
    environment: 'test',
    session: 'memory',
    engines: { session: { Memory: { session_duration: '1 hour' } } },
  });
  assert.is(settings.port, 0);
  assert.is(settings.environment, 'test');
  assert.is(settings.show_errors, false);
  assert.is(settings.session.policy.session_duration, 3600);
});

code('errors :: labelled (createApp settings)', () => {
  fails(() => readSettings({ port: 'abc' }), '(createApp settings)', 'port', '"abc"');
  fails(() => readSettings({ porte: 1 }), '(createApp settings)', 'porte', 'port');
  fails(() => readSettings({ engines: { session: { Memory: { cookie_same_site: 'None' } } } }), '(createApp settings)', 'engines.session.Memory.cookie_same_site');
});

code('errors :: the label can be chosen', () => {
  fails(() => readSettings({ log: 'loud' }, 'app.ts'), 'app.ts', 'log');
});

code('values :: no ${VAR} interpolation in code', () => {
  assert.is(readSettings({ host: '${HOST:-x}' }).host, '${HOST:-x}');
});

code('hash_ids and trust_proxy :: default false (an upgrade logs nobody out), booleans only', () => {
  const settings = readSettings({});
  assert.equal([settings.session.policy.hash_ids, settings.trust_proxy], [false, false]);
  const on = readSettings({ trust_proxy: 'true', engines: { session: { Memory: { hash_ids: true } } } });
  assert.equal([on.session.policy.hash_ids, on.trust_proxy], [true, true]);
  fails(() => readSettings({ engines: { session: { Redis: { hash_ids: 'sha256' } } } }), '(createApp settings)', 'engines.session.Redis.hash_ids', 'sha256');
  fails(() => readSettings({ trust_proxy: 'yes please' }), '(createApp settings)', 'trust_proxy');
});

code('registerSessionEngine :: a built-in name (any case) cannot be taken over; a new name is chosen by config', () => {
  const definition = { options: {}, create: () => storedMemoryEngine(new MemoryEngine({ max_sessions: 10 }, 60)) };
  assert.throws(() => registerSessionEngine('redis', definition), (e: Error) => e instanceof TypeError && /Redis is a built-in session engine/.test(e.message));
  registerSessionEngine('Scratch', definition);
  assert.is(readSettings({ session: 'scratch' }).session.engineName, 'Scratch');
});

code.run();
