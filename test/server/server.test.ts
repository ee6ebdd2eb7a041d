import { connect } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { App, Listening, ListenOptions } from '../../src/server/app.ts';
import { createApp } from '../../src/create-app.ts';
import { get as httpsGet } from 'node:https';
import { certificate } from '../support/certificate.ts';
import { raw, statusLine, statusOf } from '../support/raw.ts';
import { withoutCsrf } from '../support/serve.ts';

/** A listening app with `GET /` and `GET /files/:name`; `run` gets its port. */
async function serve(run: (port: number, listening: Listening, app: App) => Promise<void>, options?: ListenOptions): Promise<void> {
  const app = createApp(withoutCsrf({ log: 'none', environment: 'production' }));
  app.get('/', () => 'ok');
  app.get('/files/:name', ctx => ctx.param('name'));
  app.post('/echo', ctx => ctx.body());
  const listening = await app.listen(0, '127.0.0.1', options);
  try {
    await run(listening.port, listening, app);
  } finally {
    await app.close();
  }
}

/** Proves the process still serves: a well-formed request on a new connection gets 200 ok. */
async function stillServing(port: number): Promise<void> {
  const response = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.is(statusOf(response), 200, 'the server keeps serving');
  assert.ok(response.endsWith('\r\n\r\nok'));
}

const hardening = suite('app.listen() server');

hardening('malformed request line :: 400, connection closed, still serving', () =>
  serve(async port => {
    for (const line of ['GARBAGE', 'GET', 'GET / HTTP/9.9', '\x00\x01\x02']) {
      const response = await raw(port, `${line}\r\nHost: x\r\n\r\n`);
      assert.is(statusOf(response), 400, JSON.stringify(line));
      assert.match(response, /connection: close/i);
    }
    await stillServing(port);
  }));

hardening('bad bytes in the URL :: 400, still serving', () =>
  serve(async port => {
    for (const target of ['/\x01', '/a\x7fb', '/caf\xc3\xa9', '/a\tb']) {
      const response = await raw(port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'));
      assert.is(statusOf(response), 400, JSON.stringify(target));
    }
    await stillServing(port);
  }));

hardening('invalid or unknown method :: 400, still serving', () =>
  serve(async port => {
    for (const method of ['FOO', 'G@T', 'get']) {
      assert.is(statusOf(await raw(port, `${method} / HTTP/1.1\r\nHost: x\r\n\r\n`)), 400, method);
    }
    await stillServing(port);
  }));

// Decision (as the issue asks): the asterisk-form and absolute-form request targets are refused
// with a 400 rather than routed; Quickstep is an origin server, not a proxy.
hardening('request target not starting with "/" :: 400', () =>
  serve(async port => {
    for (const target of ['*', 'http://example.com/']) {
      const response = await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.is(statusOf(response), 400, target);
      assert.match(response, /The request target must be a path$/);
    }
    await stillServing(port);
  }));

hardening('bad percent-encoding in the path :: 400 for routed and unknown paths', () =>
  serve(async port => {
    for (const path of ['/files/%zz', '/files/%E0%A4%A', '/nowhere/%', '/%C0%AF']) {
      const response = await raw(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.is(statusOf(response), 400, path);
      assert.match(response, /Malformed percent-encoding in the URL path$/);
    }
    const good = await raw(port, 'GET /files/a%20b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.ok(good.endsWith('\r\n\r\na b'), 'a well-encoded path is decoded');
    await stillServing(port);
  }));

hardening('oversized headers :: 431, still serving', () =>
  serve(async port => {
    const response = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.is(statusOf(response), 431);
    await stillServing(port);
  }));

hardening('pipelined keep-alive requests :: each answered in order', () =>
  serve(async port => {
    const response = await raw(port, 'GET /files/one HTTP/1.1\r\nHost: x\r\n\r\nGET /files/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(response, /\r\n\r\none[^]*\r\n\r\ntwo$/);
  }));

hardening('serves on a real port until close()', async () => {
  const app = createApp({ log: 'none' }).get('/', () => 'live');
  const { url, port, server } = await app.listen(0, '127.0.0.1');
  try {
    assert.is(url, `http://127.0.0.1:${port}`);
    assert.is(server.listening, true);
    assert.is(await (await fetch(url)).text(), 'live');
    await app.listen(0, '127.0.0.1').then(() => assert.unreachable('listened twice'), (e: Error) => assert.match(e.message, /already listening/));
  } finally {
    await app.close();
  }
  assert.is(server.listening, false);
  await fetch(url).then(() => assert.unreachable('still answering'), () => {});
});

// Node's defaults are headersTimeout 60 s, requestTimeout 300 s, keepAliveTimeout 5 s.
hardening('timeouts :: set on the server listen() returns, to sensible non-default values', () =>
  serve(async (_port, { server }) => {
    assert.ok(server.headersTimeout > 0 && server.headersTimeout < 60_000, `headersTimeout ${server.headersTimeout}`);
    assert.ok(server.requestTimeout >= server.headersTimeout && server.requestTimeout < 300_000, `requestTimeout ${server.requestTimeout}`);
    // Longer than the usual load balancer idle timeout (60 s), so the balancer closes first.
    assert.ok(server.keepAliveTimeout > 60_000 && server.keepAliveTimeout <= 120_000, `keepAliveTimeout ${server.keepAliveTimeout}`);
  }));

// Short timeouts, and Node checking them every 50 ms instead of every 30 s.
const quick: ListenOptions = { headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 };

hardening('headers not finished in headersTimeout :: 408 Request Timeout, closed, still serving', () =>
  serve(async port => {
    const started = Date.now();
    const response = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Half: ');
    assert.is(statusLine(response), 'HTTP/1.1 408 Request Timeout');
    assert.match(response, /connection: close/i);
    assert.ok(Date.now() - started < 1500, 'answered in about headersTimeout');
    await stillServing(port);
  }, quick));

hardening('body not finished in requestTimeout :: 408 Request Timeout, closed, still serving', () =>
  serve(async port => {
    const response = await raw(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nabc');
    assert.is(statusLine(response), 'HTTP/1.1 408 Request Timeout');
    await stillServing(port);
  }, quick));

// Quickstep is an origin server, not a proxy: it says so instead of dropping the connection.
hardening('CONNECT :: 405 with an explanation, connection closed, still serving', () =>
  serve(async port => {
    const response = await raw(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.is(statusLine(response), 'HTTP/1.1 405 Method Not Allowed');
    assert.match(response, /\r\nconnection: close\r\n/i);
    assert.match(response, /\r\nallow: \r\n/i, 'an empty Allow: no method is allowed on a tunnel target');
    assert.match(response, /\r\n\r\nCONNECT is not supported: this server is not a proxy\n$/);
    await stillServing(port);
  }));

/** An app whose `GET /page` answers a distinct 64 KiB page and counts the requests it handled. */
async function servePages(run: (port: number, handled: () => number) => Promise<void>): Promise<void> {
  const app = createApp(withoutCsrf({ log: 'none', environment: 'production' }));
  let handled = 0;
  const page = 'x'.repeat(64 * 1024);
  app.get('/page', () => `${page}${handled++};`);
  app.get('/', () => 'ok');
  const { port } = await app.listen(0, '127.0.0.1');
  try {
    await run(port, () => handled);
  } finally {
    await app.close();
  }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

// Without a cap, every request that arrived in one read was handled and its response kept in
// memory: about 9,700 of 10,000 pipelined GETs, 180 MB for 16 KiB pages (issue 8).
hardening('pipelining, never reading :: reading stops after 32 in the app; others are served; it resumes', () =>
  servePages(async (port, handled) => {
    const client = connect(port, '127.0.0.1');
    try {
      client.pause();
      const count = 600;
      client.write('GET /page HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count - 1) + 'GET /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await sleep(300);
      await stillServing(port);
      const settled = handled();
      // 1 answered + 32 in the app, plus the responses the kernel's socket buffers took.
      assert.ok(settled < count / 2, `${settled} of ${count} handled for a client that reads nothing`);
      await sleep(200);
      assert.is(handled(), settled, 'no more work while it does not read');
      let received = '';
      const closed = new Promise(resolve => client.on('close', resolve));
      client.on('data', chunk => (received += chunk.toString('latin1')));
      client.resume();
      await closed;
      assert.is(handled(), count, 'all handled once it reads');
      const order = [...received.matchAll(/x(\d+);/g)].map(match => Number(match[1]));
      assert.equal(order, Array.from({ length: count }, (_, i) => i), 'every response, in order');
    } finally {
      client.destroy();
    }
  }));

hardening('pipelining far more than it reads (over 1,024 waiting) :: disconnected, little work done', () =>
  servePages(async (port, handled) => {
    const flood = connect(port, '127.0.0.1');
    try {
      flood.pause();
      flood.write('GET /page HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(10_000));
      await sleep(300);
      assert.ok(handled() <= 100, `${handled()} of 10000 handled`);
      await stillServing(port);
      // A paused socket does not see the close: read what was sent, then the end (or a reset).
      flood.on('error', () => {});
      let responses = 0;
      flood.on('data', chunk => (responses += chunk.toString('latin1').split('HTTP/1.1 200').length - 1));
      const closed = new Promise(resolve => flood.on('close', resolve));
      flood.resume();
      await closed;
      assert.ok(responses < 100, `closed by the server after ${responses} responses`);
    } finally {
      flood.destroy();
    }
  }));

hardening('close() :: idle keep-alive connections do not hold it open', () =>
  serve(async (port, _listening, app) => {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>(resolve => socket.once('data', () => resolve()).write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const closedAt = new Promise<number>(resolve => socket.once('close', () => resolve(Date.now())));
    const start = Date.now();
    await app.close();
    assert.ok((await closedAt) - start < 1000, 'the idle socket was closed at once');
  }));

hardening('tls :: listen() serves HTTPS with the given key and certificate; its URL says https; the session cookie is __Host-', async () => {
  const tls = certificate();
  const app = createApp({ log: 'none', environment: 'production' });
  app.get('/login', async ctx => { await ctx.session('user', 'ann'); return 'in'; });
  const listening = await app.listen(0, '127.0.0.1', { tls });
  try {
    assert.match(listening.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
      httpsGet(`${listening.url}/login`, { ca: tls.cert }, res => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0] ?? '' }));
      }).on('error', reject);
    });
    assert.is(answer.status, 200);
    assert.match(answer.cookie, /^__Host-sid=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    // Plain http to the TLS port is not served.
    const plain = await raw(listening.port, 'GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').catch(() => '');
    assert.not.match(plain, /^HTTP\/1\.1 200/);
  } finally {
    await app.close();
  }
});

hardening.run();
