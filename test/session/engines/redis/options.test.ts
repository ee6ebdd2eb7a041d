/**
 * The Redis engine's settings: what config.yml may say under engines.session.Redis, the
 * ConfigError for each mistake, and the ioredis options they become. Needs no redis-server.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../../src/base/errors.ts';
import { clusterClientOptions, redisClientOptions } from '../../../../src/session/engines/redis/options.ts';
import { redisOptions } from './helpers.ts';

const test = suite('Redis engine :: options');

/** The ConfigError `options` give, checked to name the key path. */
function configError(options: Record<string, unknown>, key: string): ConfigError {
  try {
    redisOptions(options);
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.is((error as ConfigError).key, `engines.session.Redis.${key}`);
    assert.match((error as ConfigError).message, /^config\.yml: engines\.session\.Redis\./);
    return error as ConfigError;
  }
  return assert.unreachable(`expected a ConfigError for ${JSON.stringify(options)}`) as never;
}

test('defaults :: 127.0.0.1:6379, prefix dancer.session:, 1 s command and 2 s connect timeouts', () => {
  const options = redisOptions({});
  assert.is(options.key_prefix, 'dancer.session:');
  assert.is(options.command_timeout, 1000);
  assert.is(options.connect_timeout, 2000);
  const client = redisClientOptions(options);
  assert.is(client.host, '127.0.0.1');
  assert.is(client.port, 6379);
});

test('ioredis :: lazy, no offline queue, bounded commands, no auto-pipelining, capped reconnects', () => {
  const client = redisClientOptions(redisOptions({ server: 'cache.internal:6380', command_timeout: '250', connect_timeout: 500, password: 'pw', database: '2' }));
  assert.equal(
    { host: client.host, port: client.port, password: client.password, db: client.db },
    { host: 'cache.internal', port: 6380, password: 'pw', db: 2 },
  );
  assert.is(client.lazyConnect, true);
  assert.is(client.enableOfflineQueue, false, 'nothing queued while Redis is down');
  assert.is(client.autoResendUnfulfilledCommands, false, 'nothing re-sent after a lost connection');
  assert.is(client.commandTimeout, 250);
  assert.is(client.socketTimeout, 250, 'a silent connection with commands pending is dropped after command_timeout');
  assert.is(client.connectTimeout, 500);
  assert.is(client.maxRetriesPerRequest, 0);
  assert.is(client.enableAutoPipelining, false, 'each command written at once: cheaper than a Pipeline per batch (bench)');
  const delays = [1, 2, 5, 10, 100].map(attempt => (client.retryStrategy as (n: number) => number)(attempt));
  assert.ok(delays.every(delay => delay > 0 && delay <= 1000), `delays ${delays} are capped at 1 s and never give up`);
});

test('ioredis :: sentinels and name reach ioredis', () => {
  const client = redisClientOptions(redisOptions({ sentinels: ['10.0.0.1:26379', '[::1]:26380'], name: 'mymaster' }));
  assert.equal(client.sentinels, [{ host: '10.0.0.1', port: 26379 }, { host: '::1', port: 26380 }]);
  assert.is(client.name, 'mymaster');
  assert.is(client.host, undefined, 'the master address comes from the sentinels');
  assert.is(client.failoverDetector, true, "the sentinels' +switch-master moves the client to the new master");
  assert.ok(client.reconnectOnError?.(new Error('READONLY You can\'t write against a read only replica.')), 'a demoted master is left');
  assert.not.ok(client.reconnectOnError?.(new Error('ERR wrong number of arguments')));
});

test('ioredis :: a comma-separated cluster list; node connections get the same bounds', () => {
  const options = redisOptions({ cluster: '127.0.0.1:7000, 127.0.0.1:7001' });
  assert.equal(options.cluster, ['127.0.0.1:7000', '127.0.0.1:7001']);
  const client = clusterClientOptions(options);
  assert.is(client.lazyConnect, true);
  assert.is(client.enableAutoPipelining, false, 'off on a Cluster too: on, MOVED errors came back as 503s during a resharding (reshard.test.ts)');
  assert.is(client.redisOptions?.commandTimeout, 1000);
});

test('ConfigError :: bad values, each naming its key', () => {
  configError({ server: 'localhost' }, 'server');
  configError({ server: '127.0.0.1:70000' }, 'server');
  configError({ database: 99 }, 'database');
  configError({ url: 'http://127.0.0.1:6379' }, 'url');
  configError({ url: 'redis://127.0.0.1:6379/99' }, 'url');
  configError({ command_timeout: 0 }, 'command_timeout');
  configError({ sentinels: ['nope'], name: 'm' }, 'sentinels');
  configError({ key_prefx: 'typo:' }, 'key_prefx');
});

test('ConfigError :: settings that do not go together', () => {
  assert.match(configError({ sentinels: ['127.0.0.1:26379'] }, 'name').message, /required with sentinels/);
  configError({ name: 'mymaster' }, 'name');
  assert.match(configError({ url: 'redis://127.0.0.1', cluster: ['127.0.0.1:7000'] }, 'cluster').message, /only one of/);
  configError({ server: '127.0.0.1:6379', url: 'redis://127.0.0.1' }, 'server');
  configError({ server: '127.0.0.1:6379', sentinels: ['127.0.0.1:26379'], name: 'm' }, 'sentinels');
  configError({ cluster: ['127.0.0.1:7000'], database: 1 }, 'database');
  configError({ cluster: [] }, 'cluster');
});

test('errors :: wait_replicas with cluster, or out of range, is a ConfigError naming the key', () => {
  assert.match(configError({ cluster: ['127.0.0.1:7000'], wait_replicas: 1 }, 'wait_replicas').message, /0 with cluster/);
  configError({ wait_replicas: -1 }, 'wait_replicas');
  configError({ wait_replicas: 'two' }, 'wait_replicas');
  assert.is(redisOptions({ cluster: ['127.0.0.1:7000'], wait_replicas: 0 }).wait_replicas, 0, 'an explicit 0 is fine with cluster');
});


test('errors :: a bad cluster node list says what each item must be, in words that read', () => {
  assert.throws(
    () => redisOptions({ cluster: ['10.0.0.1:7000', 'nowhere'] }),
    (error: unknown) => error instanceof Error && error.message.includes('engines.session.Redis.cluster: expected a list, each a "host:port" address such as "127.0.0.1:6379"'),
  );
});

test.run();
