/**
 * The abuse limits through HTTP (session/abuse/): a client sending 1,000 unknown session ids is
 * reported once (a warning line and the session.id_guessing hook with its address) and, with
 * unknown_id_block, answered 429 before the store is asked, while another client is served
 * normally (on Memory, Redis, a Redis Cluster and the Cookie engine: the count is the same code
 * on every engine); new_session_limit caps the sessions one client may store in a minute. Clients are
 * told apart by X-Forwarded-For under trust_proxy, as behind a real proxy. On Redis the guessing
 * client stops costing store commands once blocked, and a plain read costs what it did.
 */
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, type App, type SettingsInput } from '../../../src/index.ts';
import { testClient, type TestClient } from '../../../src/testing.ts';
import { redisSuite, startCluster, startRedis, type RedisCluster, type RedisServer } from '../../support/redis-server.ts';
import { withoutCsrf } from '../../support/serve.ts';
import { stderrOf } from '../../support/stderr.ts';
import { uniquePrefix } from '../engines/redis/helpers.ts';

const randomId = () => randomBytes(24).toString('base64url');

interface Run {
  app: App;
  client: TestClient;
  name: string;
  warnings: string[];
  guessing: string[];
}

async function withApp(session: string, options: Record<string, unknown>, body: (run: Run) => Promise<void>, after?: (warnings: string[]) => void): Promise<void> {
  const warnings: string[] = [];
  const guessing: string[] = [];
  const settings: SettingsInput = withoutCsrf({
    log: 'warning',
    trust_proxy: true,
    session,
    engines: { session: { [session]: options } },
  });
  const app = createApp(settings);
  app.get('/me', async ctx => ({ user: (await ctx.session('user')) ?? null }));
  app.post('/login/:user', async ctx => {
    await ctx.session('user', ctx.params.user);
    return 'ok';
  });
  app.hook('session.id_guessing', (_ctx, address) => void guessing.push(address));
  const client = await testClient(app);
  try {
    const logged = await stderrOf(() => body({ app, client, name: app.sessions.cookieOver(false).name, warnings, guessing }));
    warnings.push(...logged.split('\n').filter(line => line.includes('session id guessing')));
    await after?.(warnings);
  } finally {
    await client.close();
  }
}

/** One request from `address` with a session cookie `id` (unknown unless it is one). */
function from(run: Run, address: string, id: string) {
  return run.client.fork().request('GET', '/me', { headers: { 'x-forwarded-for': address, cookie: `${run.name}=${id}` } });
}

const test = suite('abuse limits :: Memory (and the Cookie engine)');

/** The detection through HTTP on `session` (its engine block `options`): 1,000 unknown ids from one client. */
const guessed = (session: string, options: () => Promise<Record<string, unknown>>) => async () =>
  withApp(session, await options(), async run => {
    const honest = run.client.fork();
    await honest.request('POST', '/login/ann', { headers: { 'x-forwarded-for': '198.51.100.2' } });
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const res = await from(run, '203.0.113.9', randomId());
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (i % 100 === 0) assert.equal((await honest.request('GET', '/me', { headers: { 'x-forwarded-for': '198.51.100.2' } })).json(), { user: 'ann' });
    }
    assert.equal(Object.fromEntries(statuses), { 200: 1000 }, 'without unknown_id_block the guesses are answered (as no session)');
    assert.equal(run.guessing, ['203.0.113.9'], 'the hook ran once, with the address');
  }, warnings => {
    assert.is(warnings.length, 1, 'one warning line');
    assert.match(warnings[0]!, 'client 203.0.113.9 sent more than 100 unknown or expired session ids within a minute');
    assert.not.match(warnings[0]!, /[A-Za-z0-9_-]{32}/, 'no id in the line');
  });

test('1,000 unknown ids from one client: reported once (log line, hook with its address); another client is served throughout', guessed('Memory', async () => ({})));
test('1,000 unknown ids on the Cookie engine (revocation on Memory): reported once; another client is served throughout', guessed('Cookie', async () => ({ secret_key: randomBytes(32).toString('base64url'), revocation: { store: 'Memory' } })));

test('unknown_id_block :: past the limit the guessing client gets 429 with Retry-After; another client is served', () =>
  withApp('Memory', { unknown_id_limit: 50, unknown_id_block: true }, async run => {
    const honest = run.client.fork();
    await honest.request('POST', '/login/ann', { headers: { 'x-forwarded-for': '198.51.100.2' } });
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) statuses.push((await from(run, '203.0.113.9', randomId())).status);
    assert.ok(statuses.slice(0, 51).every(status => status === 200), 'the first 51 answered');
    assert.ok(statuses.slice(51).every(status => status === 429), 'then 429');
    const blocked = await from(run, '203.0.113.9', randomId());
    assert.ok(Number(blocked.headers.get('retry-after')) >= 1, 'Retry-After');
    assert.equal((await honest.request('GET', '/me', { headers: { 'x-forwarded-for': '198.51.100.2' } })).json(), { user: 'ann' });
    const plain = await run.client.fork().request('GET', '/me', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.is(plain.status, 200, 'a request without a session cookie from that client is not refused');
  }));

test('unknown_id_limit: 0 turns the counting off', () =>
  withApp('Memory', { unknown_id_limit: 0, unknown_id_block: true }, async run => {
    for (let i = 0; i < 200; i++) assert.is((await from(run, '203.0.113.9', randomId())).status, 200);
    assert.equal(run.guessing, []);
  }));

test('new_session_limit :: one client stores that many new sessions a minute, then 429 and nothing stored; another client is not affected', () =>
  withApp('Memory', { new_session_limit: 5 }, async run => {
    const post = (address: string) => run.client.fork().request('POST', '/login/x', { headers: { 'x-forwarded-for': address } });
    for (let i = 0; i < 5; i++) assert.is((await post('203.0.113.9')).status, 200, `session ${i + 1}`);
    const over = await post('203.0.113.9');
    assert.is(over.status, 429);
    assert.is(over.setCookie(run.name), undefined, 'no cookie: nothing stored');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    for (let i = 0; i < 20; i++) assert.is((await post('203.0.113.9')).status, 429);
    let stored = 0;
    for await (const _ of (run.app.sessions.engine as { store: { sessions(): AsyncIterable<string> } }).store.sessions()) stored++;
    assert.is(stored, 5, 'the store holds 5');
    assert.is((await post('198.51.100.2')).status, 200, 'another client still can');
  }));

test('bad settings are ConfigErrors', () => {
  assert.throws(() => createApp({ engines: { session: { Memory: { unknown_id_limit: -1 } } } }), /unknown_id_limit/);
  assert.throws(() => createApp({ engines: { session: { Memory: { new_session_limit: 'lots' } } } }), /new_session_limit/);
  assert.throws(() => createApp({ engines: { session: { Memory: { unknown_id_block: 'maybe' } } } }), /unknown_id_block/);
});
test.run();

const redis = redisSuite('abuse limits :: Redis');
let single: RedisServer | undefined;
redis.after(() => single?.stop());
redis('1,000 unknown ids from one client: reported once (log line, hook with its address); another client is served throughout', guessed('Redis', async () => ({ url: (single ??= await startRedis()).url, key_prefix: uniquePrefix() })));
redis('a blocked client costs the store nothing; a plain read costs what it did (commandstats)', async () => {
  const server = await startRedis();
  try {
    await withApp('Redis', { url: server.url, key_prefix: uniquePrefix(), unknown_id_limit: 10, unknown_id_block: true, new_session_limit: 100 }, async run => {
      const honest = run.client.fork();
      await honest.request('POST', '/login/ann', { headers: { 'x-forwarded-for': '198.51.100.2' } });
      await honest.request('GET', '/me', { headers: { 'x-forwarded-for': '198.51.100.2' } });
      for (let i = 0; i < 11; i++) await from(run, '203.0.113.9', randomId());
      await server.cli('CONFIG', 'RESETSTAT');
      for (let i = 0; i < 100; i++) assert.is((await from(run, '203.0.113.9', randomId())).status, 429);
      const afterBlocked = await server.commandCalls();
      assert.is(afterBlocked.get('evalsha') ?? 0, 0, '100 blocked requests: no script run');
      await server.cli('CONFIG', 'RESETSTAT');
      for (let i = 0; i < 5; i++) assert.equal((await honest.request('GET', '/me', { headers: { 'x-forwarded-for': '198.51.100.2' } })).json(), { user: 'ann' });
      const calls = await server.commandCalls();
      assert.equal([calls.get('evalsha'), calls.get('get')], [5, 5], 'five plain reads, one script each');
    });
  } finally {
    await server.stop();
  }
});
redis.run();

const cluster = redisSuite('abuse limits :: Redis Cluster');
let nodes: RedisCluster | undefined;
cluster.after(() => nodes?.stop());
cluster('1,000 unknown ids from one client: reported once (log line, hook with its address); another client is served throughout', guessed('Redis', async () => ({ cluster: (nodes ??= await startCluster()).nodes, command_timeout: 1000, key_prefix: uniquePrefix() })));
cluster.run();
