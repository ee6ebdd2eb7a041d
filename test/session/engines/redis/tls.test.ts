/**
 * The Redis engine over TLS, against a real `redis-server --tls-port` with a certificate made by
 * the test (openssl): a private CA given as `tls.ca` (a file or the PEM text), a client
 * certificate for a Redis that asks for one, and each misconfiguration a user makes (a redis://
 * url to the TLS port, an untrusted certificate, a wrong password) as one log line saying what to
 * change; a tls block that cannot work is a ConfigError at start-up.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { ConfigError, SessionStoreError } from '../../../../src/base/errors.ts';
import { certificate, type Certificate } from '../../../support/certificate.ts';
import { freePort, redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { makeEngine, newId, read, redisOptions, uniquePrefix, write, type Logged } from './helpers.ts';

interface Ctx {
  redis: RedisServer;
  tlsPort: number;
  /** Asks for a client certificate signed by `tls.cert` (self-signed: its own CA). */
  mutual: RedisServer;
  mutualPort: number;
  tls: Certificate;
  dir: string;
}

const test = redisSuite<Ctx>('Redis engine :: TLS', {} as Ctx);

test.before(async ctx => {
  ctx.tls = certificate();
  ctx.dir = mkdtempSync(join(tmpdir(), 'quickstep-redis-tls-'));
  for (const [name, text] of [['cert.pem', ctx.tls.cert], ['key.pem', ctx.tls.key]] as const) writeFileSync(join(ctx.dir, name), text);
  const files = ['--tls-cert-file', join(ctx.dir, 'cert.pem'), '--tls-key-file', join(ctx.dir, 'key.pem'), '--tls-ca-cert-file', join(ctx.dir, 'cert.pem')];
  ctx.tlsPort = await freePort();
  // The plain port stays open for the test's own redis-cli; the engine uses the TLS port.
  ctx.redis = await startRedis({ args: ['--tls-port', String(ctx.tlsPort), ...files, '--tls-auth-clients', 'no', '--requirepass', 'sekret'] });
  ctx.mutualPort = await freePort();
  ctx.mutual = await startRedis({ args: ['--tls-port', String(ctx.mutualPort), ...files, '--tls-auth-clients', 'yes'] });
});
test.after(async ctx => {
  await ctx.redis?.stop();
  await ctx.mutual?.stop();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

const errors = (logs: Logged[]) => logs.filter(entry => entry.level === 'error').map(entry => entry.message);

async function roundTrip(options: Record<string, unknown>): Promise<void> {
  const { engine } = makeEngine({ key_prefix: uniquePrefix(), command_timeout: 2000, ...options });
  try {
    const id = newId();
    await write(engine, id, true, s => s.set('user', 'ann'));
    assert.equal(await read(engine, id), { user: 'ann' });
  } finally {
    await engine.close();
  }
}

/** The one error line an engine logs when its first operation fails with a SessionStoreError. */
async function failureLine(options: Record<string, unknown>): Promise<string> {
  const { engine, logs } = makeEngine({ key_prefix: uniquePrefix(), command_timeout: 1000, ...options });
  try {
    const error = await engine.retrieve(newId()).then(() => undefined, (e: unknown) => e);
    assert.instance(error, SessionStoreError);
    const lines = errors(logs);
    assert.is(lines.length, 1, lines.join('\n'));
    return lines[0]!;
  } finally {
    await engine.close();
  }
}

test('rediss:// with the private CA as tls.ca (a file, or the PEM text from the environment) :: sessions are stored', async ctx => {
  await roundTrip({ url: `rediss://:sekret@127.0.0.1:${ctx.tlsPort}`, tls: { ca: join(ctx.dir, 'cert.pem') } });
  await roundTrip({ url: `rediss://:sekret@127.0.0.1:${ctx.tlsPort}`, tls: { ca: ctx.tls.cert } });
  // server (not url) with a tls block is TLS too.
  await roundTrip({ server: `127.0.0.1:${ctx.tlsPort}`, password: 'sekret', tls: { ca: ctx.tls.cert } });
});

test('a Redis that asks for a client certificate :: tls.cert and tls.key given, it works', async ctx => {
  await roundTrip({ url: `rediss://127.0.0.1:${ctx.mutualPort}`, tls: { ca: ctx.tls.cert, cert: join(ctx.dir, 'cert.pem'), key: join(ctx.dir, 'key.pem') } });
});

test('an untrusted certificate (no tls.ca) :: one line saying to give the CA as tls.ca', async ctx => {
  const line = await failureLine({ url: `rediss://:sekret@127.0.0.1:${ctx.tlsPort}` });
  assert.match(line, /unreachable/);
  assert.match(line, /give its certificate or CA as tls\.ca/);
});

test('a redis:// url to the TLS port :: one line saying rediss://', async ctx => {
  const line = await failureLine({ url: `redis://:sekret@127.0.0.1:${ctx.tlsPort}` });
  assert.match(line, /use a rediss:\/\/ url/);
});

test('a wrong password :: one line saying to check url or password, never the password itself', async ctx => {
  const line = await failureLine({ url: `rediss://:wrong-one@127.0.0.1:${ctx.tlsPort}`, tls: { ca: ctx.tls.cert } });
  assert.match(line, /WRONGPASS|NOAUTH|invalid/);
  assert.match(line, /check url or password|wants a password/);
  assert.not.match(line, /wrong-one/);
});

test('a tls block that cannot work :: a ConfigError naming the key and what to write', ctx => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ url: 'redis://127.0.0.1:6379', tls: { ca: ctx.tls.cert } }, /engines\.session\.Redis\.url.*rediss:\/\//],
    [{ url: 'rediss://127.0.0.1:6379', tls: { cert: ctx.tls.cert } }, /engines\.session\.Redis\.tls\.key.*cert and key together/],
    [{ url: 'rediss://127.0.0.1:6379', tls: { ca: '/no/such/ca.pem' } }, /engines\.session\.Redis\.tls\.ca.*readable PEM file.*ENOENT/],
    [{ url: 'rediss://127.0.0.1:6379', tls: { ca: join(ctx.dir) } }, /engines\.session\.Redis\.tls\.ca/],
    [{ url: 'rediss://127.0.0.1:6379', tls: { ca_file: 'x' } }, /engines\.session\.Redis\.tls\.ca_file.*one of: ca, cert, key, server_name/],
    [{ sentinels: ['127.0.0.1:26379'], name: 'm', tls: {} }, /engines\.session\.Redis\.tls.*sentinels/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => redisOptions(options), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(options));
  }
});

test.run();
