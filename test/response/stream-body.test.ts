/** Streamed bodies: Readable, ReadableStream, async iterables; backpressure; errors mid-stream; the session first. */
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from '../../src/create-app.ts';
import { session } from '../../src/dsl.ts';
import { FailingFlushEngine } from '../support/engine-calls.ts';
import { serve, withClient } from '../support/serve.ts';

const streams = suite('streamed bodies');

async function* words(): AsyncGenerator<string> {
  yield 'one ';
  await sleep(5);
  yield 'two';
}

streams('Readable, ReadableStream, async iterable :: streamed (chunked), octet-stream unless set', () =>
  serve(app => {
    app.get('/node', () => Readable.from(['a', 'b', 'c']));
    app.get('/web', () => new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('web!')); c.close(); } }));
    app.get('/iter', async ctx => { ctx.header('content-type', 'text/plain'); return words(); });
  }, async client => {
    const node = await client.get('/node');
    assert.is(node.status, 200);
    assert.is(node.text, 'abc');
    assert.is(node.headers.get('content-type'), 'application/octet-stream');
    assert.is(node.headers.get('transfer-encoding'), 'chunked');
    assert.is((await client.get('/web')).text, 'web!');
    const iter = await client.get('/iter');
    assert.is(iter.text, 'one two');
    assert.is(iter.headers.get('content-type'), 'text/plain');
  }));

streams('HEAD :: headers only, and the stream is released', async () => {
  let destroyed = false;
  await serve(app => {
    app.get('/s', () => new Readable({ read() { this.push('x'); }, destroy(_e, cb) { destroyed = true; cb(null); } }));
  }, async client => {
    const res = await client.head('/s');
    assert.is(res.status, 200);
    assert.is(res.text, '');
    await sleep(20);
    assert.ok(destroyed);
  });
});

streams('backpressure :: a client that does not read makes the server read no further than the socket buffers', async () => {
  let produced = 0;
  let closed = false;
  const app = createApp({ log: 'none' });
  app.get('/big', () => new Readable({
    // 1 GiB if read to the end; a server that buffered it would hold all of it.
    read() { if (produced >= 1 << 30) this.push(null); else { produced += 65536; this.push(Buffer.alloc(65536)); } },
    destroy(_error, callback) { closed = true; callback(null); },
  }));
  const { port } = await app.listen(0, '127.0.0.1');
  const socket = connect(port, '127.0.0.1');
  await new Promise(resolve => socket.once('connect', resolve));
  socket.write('GET /big HTTP/1.1\r\nhost: x\r\n\r\n');
  socket.once('data', () => socket.pause());
  await sleep(400);
  const stalled = produced;
  await sleep(200);
  assert.ok(stalled < 64 * 1024 * 1024, `read ${stalled} bytes for a client that reads nothing`);
  assert.is(produced, stalled, 'no more is read while the client does not read');
  socket.destroy();
  await sleep(100);
  assert.ok(closed, 'the stream is destroyed when the client goes away');
  await app.close();
});

streams('error mid-stream :: the response is cut (not completed), the server keeps serving', async () => {
  const write = process.stderr.write;
  let logged = '';
  process.stderr.write = ((chunk: string) => ((logged += chunk), true)) as typeof write;
  try {
    await serve(app => {
      app.get('/fails', () => (async function* () { yield 'partial '; await sleep(5); throw new Error('disk gone'); })());
      app.get('/ok', () => 'ok');
    }, async client => {
      const res = await fetch(client.url + '/fails');
      assert.is(res.status, 200);
      let failed = false;
      try {
        await res.text();
      } catch {
        failed = true;
      }
      assert.ok(failed, 'the client sees a truncated body, not a complete one');
      assert.is((await client.get('/ok')).text, 'ok');
    }, { log: 'error' });
  } finally {
    process.stderr.write = write;
  }
  assert.match(logged, /disk gone/);
});

streams('session :: committed before the first byte (Set-Cookie on the stream); a failed commit is a 503', async () => {
  await serve(app => {
    app.get('/s', async () => { await session('user', 'ann'); return Readable.from(['streamed']); });
  }, async client => {
    const res = await client.get('/s');
    assert.is(res.text, 'streamed');
    assert.ok(res.setCookie('sid'));
  });
  let destroyed = false;
  const app = createApp({ log: 'none' }, { sessionEngine: new FailingFlushEngine(new Error('store down')) });
  app.get('/s', async () => {
    await session('user', 'ann');
    return new Readable({ read() { this.push('never'); this.push(null); }, destroy(_e, cb) { destroyed = true; cb(null); } });
  });
  await withClient(app, async client => {
    const res = await client.get('/s');
    assert.is(res.status, 503);
    assert.is.not(res.text, 'never');
    assert.ok(destroyed, 'the unsent stream is released');
  });
});

streams.run();
