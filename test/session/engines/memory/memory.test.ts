import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { MemoryEngine, storedMemoryEngine } from '../../../../src/session/engines/memory/memory.ts';
import { Session } from '../../../../src/session/session.ts';
import { engineContract, uvuTest } from '../../../../src/testing/engine-contract.ts';

const contract = suite('engine contract :: Memory');
engineContract(uvuTest(contract), {
  name: 'Memory',
  setup: ({ sessionDuration }) => ({ engine: storedMemoryEngine(new MemoryEngine({ max_sessions: 100_000 }, sessionDuration)) }),
  capabilities: { changeId: true, take: true, flushUnread: true, owners: true, hashedKeys: true, renewal: true },
});
contract.run();

const memory = suite('Memory engine');

const newSession = (id = randomBytes(24).toString('base64url')) => {
  const s = new Session(id, {}, true);
  s.set('v', 1);
  return s;
};

memory('stored values are copies: mutating after flush stores nothing', async () => {
  const engine = new MemoryEngine({ max_sessions: 10 }, 60);
  const s = new Session('a'.repeat(32), {}, true);
  const prefs = { theme: 'dark' };
  s.set('prefs', prefs);
  await engine.flush(s.id, s.change, 60);
  prefs.theme = 'light';
  const record = await engine.retrieve(s.id);
  (record!.data.prefs as { theme: string }).theme = 'changed by reader';
  assert.equal((await engine.retrieve(s.id))!.data, { prefs: { theme: 'dark' } });
  await engine.close();
});

memory('max_sessions :: a flood of 1,000,000 new sessions stays within the bound, LRU evicted', async () => {
  const engine = new MemoryEngine({ max_sessions: 1000 }, 3600);
  const keep = newSession();
  await engine.flush(keep.id, keep.change, 3600);
  const ids = randomBytes(24 * 1_000_000).toString('base64url');
  for (let i = 0; i < 1_000_000; i++) {
    const id = ids.slice(i * 32, i * 32 + 32);
    await engine.flush(id, { isNew: true, cleared: false, set: new Map([['v', '1']]), deleted: new Set(), incremented: new Map(), pushed: new Map() }, 3600);
    if (i % 500 === 0) await engine.retrieve(keep.id); // used often: never the least recently used
    if (engine.size > 1000) assert.unreachable(`size ${engine.size} exceeds max_sessions`);
  }
  assert.is(engine.size, 1000);
  assert.ok(await engine.retrieve(keep.id), 'a recently used session survives the flood');
  assert.is(await engine.retrieve(ids.slice(0, 32)), undefined, 'the least recently used were evicted');
  await engine.close();
});

memory('LRU order :: retrieve, rewrite and changeId make a session the most recent; the oldest goes first', async () => {
  const engine = new MemoryEngine({ max_sessions: 3 }, 3600);
  const [a, b, c, d, e] = [newSession(), newSession(), newSession(), newSession(), newSession()];
  for (const s of [a, b, c]) await engine.flush(s.id, s.change, 3600);
  await engine.retrieve(a.id); // order now b, c, a
  const renamed = randomBytes(24).toString('base64url');
  await engine.changeId(b.id, renamed); // c, a, renamed
  await engine.flush(d.id, d.change, 3600); // evicts c
  assert.is(await engine.retrieve(c.id), undefined, 'c was the least recently used');
  const rewrite = new Session(a.id, {}, false);
  rewrite.set('v', 2);
  await engine.flush(a.id, rewrite.change, 3600); // renamed, d, a
  await engine.flush(e.id, e.change, 3600); // evicts renamed
  assert.is(await engine.retrieve(renamed), undefined, 'the renamed session was next');
  assert.equal((await engine.retrieve(a.id))?.data, { v: 2 });
  assert.ok(await engine.retrieve(d.id));
  assert.ok(await engine.retrieve(e.id));
  assert.is(engine.size, 3);
  await engine.close();
});

memory('sweep :: stops at the first live session and drops every expired one before it, in recency order', async () => {
  const engine = new MemoryEngine({ max_sessions: 100 }, 60);
  const short = [newSession(), newSession(), newSession()];
  for (const s of short) await engine.flush(s.id, s.change, 1);
  const live = newSession();
  await engine.flush(live.id, live.change, 60);
  await engine.retrieve(short[1]!.id); // touched: now after the live one, and still short-lived
  engine.sweep(Date.now() + 5000);
  assert.is(engine.size, 2, 'the two expired before the live one are gone; the one touched after it waits for its read or a later sweep');
  engine.sweep(Date.now() + 5000);
  assert.is(engine.size, 2, 'a sweep does not look past a live session');
  await engine.close();
});

memory('sweep :: expired sessions are dropped from memory, live ones kept', async () => {
  const engine = new MemoryEngine({ max_sessions: 100 }, 60);
  const old = newSession();
  await engine.flush(old.id, old.change, 1);
  const live = newSession();
  await engine.flush(live.id, live.change, 60);
  engine.sweep(Date.now() + 5000);
  assert.is(engine.size, 1);
  assert.ok(await engine.retrieve(live.id));
  await engine.close();
});

memory('max_bytes :: sessions near the size limit stay within the byte budget, LRU evicted', async () => {
  const maxBytes = 2 ** 20;
  const engine = new MemoryEngine({ max_sessions: 100_000, max_bytes: maxBytes }, 3600);
  const keep = newSession();
  await engine.flush(keep.id, keep.change, 3600);
  const first = randomBytes(24).toString('base64url');
  const value = 'x'.repeat(200 * 1024);
  for (let i = 0; i < 200; i++) {
    const s = newSession(i === 0 ? first : undefined);
    s.set('blob', value);
    await engine.flush(s.id, s.change, 3600);
    if (i % 3 === 0) await engine.retrieve(keep.id);
    if (engine.bytes > maxBytes) assert.unreachable(`${engine.bytes} bytes held, over max_bytes ${maxBytes}`);
  }
  assert.ok(engine.size <= 6, `${engine.size} sessions of 200 KiB in 1 MiB`);
  assert.ok(engine.bytes > maxBytes - 210 * 1024, 'the budget is used, not emptied');
  assert.ok(await engine.retrieve(keep.id), 'a recently used session survives');
  assert.is(await engine.retrieve(first), undefined, 'the least recently used were evicted');
  await engine.close();
});

memory('max_bytes :: destroy, changeId, rewrite and sweep keep the byte count true', async () => {
  const engine = new MemoryEngine({ max_sessions: 100, max_bytes: 2 ** 20 }, 60);
  const a = newSession();
  a.set('text', 'é'.repeat(100));
  await engine.flush(a.id, a.change, 60);
  const stored = '{"v":1,"text":"' + 'é'.repeat(100) + '"}';
  assert.is(engine.bytes, Buffer.byteLength(stored), 'counted in UTF-8 bytes');
  assert.is((await engine.retrieve(a.id))?.size, Buffer.byteLength(stored), 'retrieve reports the size');
  const shrink = new Session(a.id, {}, false);
  shrink.delete('text');
  await engine.flush(a.id, shrink.change, 60);
  assert.is(engine.bytes, '{"v":1}'.length);
  const renamed = randomBytes(24).toString('base64url');
  await engine.changeId(a.id, renamed);
  assert.is(engine.bytes, '{"v":1}'.length);
  await engine.destroy(renamed);
  assert.is(engine.bytes, 0);
  const b = newSession();
  await engine.flush(b.id, b.change, 1);
  engine.sweep(Date.now() + 5000);
  assert.is(engine.bytes, 0);
  await engine.close();
});

memory.run();
