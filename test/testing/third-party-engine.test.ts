/**
 * A third-party engine written against `quickstep/engine` alone (the engine types, applyChange,
 * the errors and the contract suite), as an author outside
 * this repository would write it: a Map-based store with one capability, `take`, given as an
 * object of its own. It passes the contract suite with that capability declared; the tests of
 * the ones it does not declare are skipped.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from 'quickstep';
import { applyChange, engineContract, SessionTooLargeError, uvuTest, type AtomicTake, type SessionChange, type SessionRecord, type SessionStore, type StoredEngine } from 'quickstep/engine';
import { testClient } from 'quickstep/testing';
import { withoutCsrf } from '../support/serve.ts';

interface Entry {
  json: string;
  ttlMs: number;
  expiresAt: number;
}

/** Sessions as JSON text in a Map; the expiry slides by the ttl of the last flush. */
class MapStore implements SessionStore {
  readonly entries = new Map<string, Entry>();
  readonly #defaultTtlMs: number;

  constructor(sessionDuration: number) {
    this.#defaultTtlMs = sessionDuration * 1000;
  }

  /** The live entry at `key`; an expired one is removed. */
  live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) this.entries.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry : undefined;
  }

  async retrieve(key: string): Promise<SessionRecord | undefined> {
    const entry = this.live(key);
    if (!entry) return undefined;
    entry.expiresAt = Date.now() + entry.ttlMs;
    return { data: JSON.parse(entry.json), size: entry.json.length };
  }

  async flush(key: string, change: SessionChange, ttlSeconds?: number, maxSize = Infinity): Promise<void> {
    const entry = this.live(key);
    if (change.isNew && entry) throw new Error(`${key} is taken`);
    if (!change.isNew && !entry) return;
    const json = JSON.stringify(applyChange(entry ? JSON.parse(entry.json) : undefined, change));
    if (Buffer.byteLength(json) > maxSize) throw new SessionTooLargeError(Buffer.byteLength(json), maxSize);
    const ttlMs = ttlSeconds === undefined ? this.#defaultTtlMs : ttlSeconds * 1000;
    this.entries.set(key, { json, ttlMs, expiresAt: Date.now() + ttlMs });
  }

  async destroy(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async *sessions(): AsyncIterable<string> {
    for (const key of [...this.entries.keys()]) if (this.live(key)) yield key;
  }
}

/** The `take` capability: one synchronous step on the Map, so no other take comes between. */
function mapTake(store: MapStore): AtomicTake {
  return {
    async take(key, name) {
      const entry = store.live(key);
      if (!entry) return undefined;
      const data = JSON.parse(entry.json) as Record<string, unknown>;
      if (!Object.hasOwn(data, name)) return undefined;
      const value = JSON.stringify(data[name]);
      delete data[name];
      entry.json = JSON.stringify(data);
      return value;
    },
  };
}

/** What this engine's definition's `create` would give. */
function mapEngine(sessionDuration: number): StoredEngine {
  const store = new MapStore(sessionDuration);
  return { store, take: mapTake(store) };
}

const contract = suite('engine contract :: a third-party Map store');
engineContract(uvuTest(contract), {
  name: 'MapStore',
  setup: ({ sessionDuration }) => ({ engine: mapEngine(sessionDuration) }),
  capabilities: { take: true },
});
contract.run();

const usage = suite('a third-party Map store :: in an app');

usage('createApp takes it as it is: a session written is read back, a take is atomic', async () => {
  const engine = mapEngine(60);
  const app = createApp(withoutCsrf({ log: 'none' }), { sessionEngine: engine });
  app.get('/set', ctx => ctx.session('user', 'ann').then(() => 'ok'));
  app.get('/get', async ctx => String(await ctx.session('user')));
  const client = await testClient(app);
  try {
    await client.get('/set');
    assert.is((await client.get('/get')).text, 'ann');
    assert.is(engine.store instanceof MapStore && engine.store.entries.size, 1);
  } finally {
    await client.close();
  }
});

usage.run();
