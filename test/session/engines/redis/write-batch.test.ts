/**
 * redis/write-batch.ts: the commands of one event-loop turn leave in one socket write, and none
 * waits past its turn. On a plain Writable (what a socket is to it), then through the engine on a
 * real redis-server, where 20 reads started together reach Redis in one write and all answer.
 */
import { Writable } from 'node:stream';
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { createApp } from '../../../../src/index.ts';
import type { StoredEngine } from '../../../../src/engine.ts';
import { WriteBatch } from '../../../../src/session/engines/redis/write-batch.ts';
import { redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { uniquePrefix } from './helpers.ts';

/** A Writable that records each write it gets from the stream machinery (a batch is one _writev). */
function recorder(): { stream: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) { writes.push([String(chunk)]); done(); },
    writev(chunks, done) { writes.push(chunks.map(c => String(c.chunk))); done(); },
  });
  return { stream, writes };
}

const unit = suite('Redis engine :: write batch');

unit('the writes of one turn go out together, at the end of the turn; the next turn starts a new batch', async () => {
  const batch = new WriteBatch();
  const { stream, writes } = recorder();
  for (const command of ['a', 'b', 'c']) {
    batch.join(stream);
    stream.write(command);
  }
  assert.equal(writes, [], 'nothing written within the turn');
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(writes, [['a', 'b', 'c']], 'one write with all three');
  batch.join(stream);
  stream.write('d');
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(writes, [['a', 'b', 'c'], ['d']]);
  assert.is(stream.writableCorked, 0, 'left uncorked');
});

unit('no socket yet: nothing to cork, nothing fails', () => {
  new WriteBatch().join(undefined);
});

unit.run();

const engine = redisSuite<{ redis: RedisServer }>('Redis engine :: write batch on a real Redis');
engine.before(async ctx => {
  ctx.redis = await startRedis();
});
engine.after(ctx => ctx.redis.stop());

/** Redis's count of the reads it made from client sockets (INFO stats total_reads_processed). */
async function readsProcessed(redis: RedisServer): Promise<number> {
  return Number(/total_reads_processed:(\d+)/.exec(await redis.cli('INFO', 'stats'))![1]);
}

engine('20 reads started in one turn reach Redis in one socket write (Redis reads its socket once for them), and each gets its own session', async ({ redis }) => {
  const prefix = uniquePrefix();
  const app = createApp({ log: 'none', session: 'Redis', engines: { session: { Redis: { url: redis.url, key_prefix: prefix } } } });
  const stored = app.sessions.engine as StoredEngine;
  try {
    const ids = Array.from({ length: 20 }, (_, i) => `write-batch-session-${String(i).padStart(12, '0')}`);
    for (const [i, id] of ids.entries()) await redis.cli('SET', prefix + id, JSON.stringify({ n: i }));
    await stored.store.retrieve(ids[0]!); // connected, the read script loaded
    const before = await readsProcessed(redis);
    const records = await Promise.all(ids.map(id => stored.store.retrieve(id)));
    const reads = (await readsProcessed(redis)) - before - 1; // less INFO's own
    assert.equal(records.map(r => r?.data), ids.map((_, i) => ({ n: i })));
    assert.ok(reads <= 2, `Redis read its socket ${reads} times for 20 commands written together`);
  } finally {
    await app.close();
  }
});

engine.run();
