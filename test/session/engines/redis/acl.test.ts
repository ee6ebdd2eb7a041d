/**
 * Least privilege, tested: a Redis user limited to the rule redis/acl.ts gives (the engine's
 * commands, on keys under key_prefix) passes the whole engine contract and the example app's
 * login, devices page, sign-out-everywhere-else and logout; the Redis guide's rule is that one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { redisAclRule } from '../../../../src/session/engines/redis/acl.ts';
import { storedRedisEngine } from '../../../../src/session/engines/redis/definition.ts';
import { engineContract, uvuTest } from '../../../../src/testing/engine-contract.ts';
import { testClient } from '../../../../src/testing/client.ts';
import { exampleApp, formToken, ROOT } from '../../../example-app/harness.ts';
import { redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { makeEngine, uniquePrefix } from './helpers.ts';

/** Every test prefix is under this one, so one rule covers them (as one key_prefix in an app). */
const PREFIX = 'acl-test:';

let started: Promise<RedisServer> | undefined;
/** A Redis with user `quickstep` limited to the rule for PREFIX, and one for the app's default prefix. */
const server = () => (started ??= (async () => {
  const redis = await startRedis();
  await redis.cli('ACL', 'SETUSER', 'quickstep', 'on', '>pw', ...redisAclRule(PREFIX).split(' '));
  await redis.cli('ACL', 'SETUSER', 'app', 'on', '>pw', ...redisAclRule('dancer.session:').split(' '));
  return redis;
})());

const contract = redisSuite('engine contract :: Redis under the least-privilege ACL');
engineContract(uvuTest(contract), {
  name: 'Redis (ACL)',
  setup: async ({ sessionDuration }) => {
    const redis = await server();
    const { engine } = makeEngine({ url: `redis://quickstep:pw@127.0.0.1:${redis.port}`, key_prefix: PREFIX + uniquePrefix() }, sessionDuration);
    return { engine: storedRedisEngine(engine) };
  },
  capabilities: { changeId: true, changeIdAtFlush: true, take: true, flushUnread: true, owners: true, hashedKeys: true },
});
contract.run();

const test = redisSuite('Redis engine :: least privilege');
test.after(async () => {
  await (await started)?.stop();
});

test('the example app under the ACL :: login, devices, sign out elsewhere, logout all work; Redis refused nothing', async () => {
  const redis = await server();
  const app = exampleApp('Redis', `redis://app:pw@127.0.0.1:${redis.port}`);
  const client = await testClient(app);
  try {
    const other = client.fork();
    for (const browser of [client, other]) {
      const login = await browser.post('/login', { form: { user: 'ann', _csrf: await formToken(browser) } });
      assert.is(login.status, 303);
    }
    assert.match((await client.get('/')).text, /Hello, ann/);
    const devices = await client.get('/sessions');
    assert.is(devices.status, 200);
    assert.is((devices.text.match(/<li/g) ?? []).length >= 2, true, 'both devices listed');
    const out = await client.post('/sessions/others-out', { form: { _csrf: await formToken(client, '/sessions') } });
    assert.is(out.status, 303);
    assert.not.match((await other.get('/')).text, /Hello, ann/, 'the other device is signed out');
    const logout = await client.post('/logout', { form: { _csrf: await formToken(client) } });
    assert.is(logout.status, 303);
    assert.not.match((await client.get('/')).text, /Hello, ann/, 'logged out');
  } finally {
    await client.close();
  }
  // After close() too: its QUIT is under the rule as well.
  const denied = (await redis.cli('ACL', 'LOG')).trim();
  assert.is(denied, '', `Redis refused a command or key:\n${denied}`);
});

test('the Redis guide gives the same rule', () => {
  const guide = readFileSync(join(ROOT, 'docs', 'guide', 'redis.md'), 'utf8');
  assert.ok(guide.includes(redisAclRule('dancer.session:')), 'docs/guide/redis.md shows redisAclRule("dancer.session:")');
});

test.run();
