/**
 * Quickstep's TracingChannels (src/base/tracing.ts) as an OpenTelemetry user sees them: the SDK
 * subscribed through node:diagnostics_channel, spans in an InMemorySpanExporter. A request's
 * span holds its handler's and its session operations' spans, on a real Redis, when Redis is
 * down (503) and when a route fails; a login whose move Redis makes at the flush still has its
 * change_id span, and a failed move is the flush's error; no span holds a session id or a cookie.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as assert from 'uvu/assert';
import { createApp, type App } from '../../src/index.ts';
import { channels, type RequestTrace } from '../../src/base/tracing.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { withClient } from '../support/serve.ts';
import { suite } from 'uvu';

const NAMES = ['request', 'request.handler', 'session.load', 'session.flush', 'session.change_id', 'session.destroy'];

/** The OpenTelemetry SDK subscribed to every channel, as the README wires it; `stop` unsubscribes. */
function otel(): { exporter: InMemorySpanExporter; stop(): void } {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('quickstep-test');
  const spans = new WeakMap<object, Span>();
  const listeners: [string, (op: any) => void][] = [];
  for (const name of NAMES) {
    listeners.push(
      [`tracing:quickstep.${name}:start`, op => {
        const parent = spans.get(op.req);
        const span = tracer.startSpan(name, {}, parent && trace.setSpan(context.active(), parent));
        spans.set(op, span);
        if (!parent) spans.set(op.req, span);
      }],
      [`tracing:quickstep.${name}:error`, op => {
        const span = spans.get(op);
        span?.recordException(op.error);
        span?.setStatus({ code: SpanStatusCode.ERROR });
      }],
      [`tracing:quickstep.${name}:asyncEnd`, op => {
        const span = spans.get(op)!;
        for (const [key, value] of Object.entries(op)) if (value !== undefined && typeof value !== 'object') span.setAttribute(key, value as string);
        span.end();
      }],
    );
  }
  for (const [name, listener] of listeners) subscribe(name, listener);
  return { exporter, stop: () => listeners.forEach(([name, listener]) => unsubscribe(name, listener)) };
}

/** The spans of one trace as a tree of names, siblings sorted: `request(request.handler, session.load, ...)`. */
function tree(spans: ReadableSpan[]): string[] {
  const children = (id: string | undefined): string[] =>
    spans
      .filter(span => span.parentSpanContext?.spanId === id)
      .map(span => {
        const inner = children(span.spanContext().spanId);
        return inner.length === 0 ? span.name : `${span.name}(${inner.join(', ')})`;
      })
      .sort();
  return children(undefined);
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter(span => span.name === name);

/** What no span may hold: the session cookie's value. */
function assertNoSecret(spans: ReadableSpan[], secret: string): void {
  for (const span of spans) {
    const text = JSON.stringify({ attributes: span.attributes, events: span.events, name: span.name });
    assert.not.ok(text.includes(secret), `span ${span.name} holds the session cookie's value: ${text}`);
  }
}

function sessionApp(settings: Parameters<typeof createApp>[0]): App {
  const app = createApp({ log: 'none', ...settings });
  app.get('/count', async ctx => {
    const n = Number((await ctx.session('n')) ?? 0) + 1;
    await ctx.session('n', n);
    return String(n);
  });
  app.get('/write', async ctx => {
    await ctx.session('w', 1);
    return 'ok';
  });
  app.get('/login', async ctx => {
    await ctx.session('user', 'ann');
    await ctx.changeSessionId();
    return 'in';
  });
  app.get('/sign-in', async ctx => {
    await ctx.login('ann');
    return 'signed in';
  });
  app.get('/logout', async ctx => {
    await ctx.destroySession();
    return 'out';
  });
  app.get('/plain', () => 'plain');
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get('/away', ctx => ctx.redirect('/plain'));
  return app;
}

const test = redisSuite<{ redis: RedisServer }>('tracing :: OpenTelemetry over a real Redis', {} as never);
test.before(async context => {
  context.redis = await startRedis();
});
test.after(async ({ redis }) => {
  await redis?.stop();
});

test('a Redis read-and-write request: a request span with the handler, the session load and the flush inside', async ({ redis }) => {
  const { exporter, stop } = otel();
  try {
    const app = sessionApp({ session: 'Redis', engines: { session: { Redis: { url: redis.url, key_prefix: 'trace:' } } } });
    await withClient(app, async client => {
      assert.is((await client.get('/count')).text, '1');
      exporter.reset();
      assert.is((await client.get('/count')).text, '2');
      const spans = exporter.getFinishedSpans();
      assert.equal(tree(spans), ['request(request.handler, session.flush, session.load)']);
      const [request] = byName(spans, 'request');
      assert.equal([request!.attributes.method, request!.attributes.route, request!.attributes.status], ['GET', '/count', 200]);
      assert.is(request!.status.code, SpanStatusCode.UNSET);
      const [load] = byName(spans, 'session.load');
      const [flush] = byName(spans, 'session.flush');
      assert.equal([load!.attributes.found, typeof load!.attributes.handle], [true, 'string']);
      assert.equal([flush!.attributes.changed, flush!.attributes.merged, flush!.attributes.isNew], [1, true, false]);
      assert.is(flush!.attributes.handle, load!.attributes.handle, 'one handle names the session in both');
      assertNoSecret(spans, client.jar.get(app.sessions.cookieOver(false).name)!.value);
    });
  } finally {
    stop();
  }
});

test('login and logout: change_id and destroy spans, with handles, never the ids', async ({ redis }) => {
  const { exporter, stop } = otel();
  try {
    const app = sessionApp({ session: 'Redis', engines: { session: { Redis: { url: redis.url, key_prefix: 'trace-login:' } } } });
    await withClient(app, async client => {
      await client.get('/count');
      const before = client.jar.get(app.sessions.cookieOver(false).name)!.value;
      exporter.reset();
      await client.get('/login');
      const after = client.jar.get(app.sessions.cookieOver(false).name)!.value;
      const login = exporter.getFinishedSpans();
      assert.equal(tree(login), ['request(request.handler, session.change_id, session.flush, session.load)']);
      const [changed] = byName(login, 'session.change_id');
      assert.ok(changed!.attributes.handle !== changed!.attributes.newHandle);
      assert.is(byName(login, 'session.flush')[0]!.attributes.handle, changed!.attributes.newHandle);
      exporter.reset();
      await client.get('/logout');
      const logout = exporter.getFinishedSpans();
      assert.equal(tree(logout), ['request(request.handler, session.destroy, session.load)']);
      for (const id of [before, after]) assertNoSecret([...login, ...logout], id);
    });
  } finally {
    stop();
  }
});

test('login() of a stored Redis session: change_id fires with both handles though the flush makes the move (changeIdAtFlush)', async ({ redis }) => {
  const { exporter, stop } = otel();
  try {
    const app = sessionApp({ session: 'Redis', engines: { session: { Redis: { url: redis.url, key_prefix: 'trace-sign-in:' } } } });
    await withClient(app, async client => {
      await client.get('/count');
      const before = client.jar.get(app.sessions.cookieOver(false).name)!.value;
      exporter.reset();
      assert.is((await client.get('/sign-in')).text, 'signed in');
      const spans = exporter.getFinishedSpans();
      for (const id of [before, client.jar.get(app.sessions.cookieOver(false).name)!.value]) assertNoSecret(spans, id);
      assert.equal(tree(spans), ['request(request.handler, session.change_id, session.flush, session.load)']);
      const [load] = byName(spans, 'session.load');
      const [changed] = byName(spans, 'session.change_id');
      const [flush] = byName(spans, 'session.flush');
      assert.is(changed!.attributes.handle, load!.attributes.handle, 'change_id names the session it moved from');
      assert.ok(typeof changed!.attributes.newHandle === 'string' && changed!.attributes.newHandle !== changed!.attributes.handle);
      assert.equal([flush!.attributes.handle, flush!.attributes.isNew, flush!.attributes.merged], [changed!.attributes.newHandle, false, true], 'the flush stores the moved session under its new id');
      assert.is((await client.get('/count')).text, '2', 'the data moved with the id');
    });
  } finally {
    stop();
  }
});

test('Redis down: the 503 request span holds the failed load (or flush), both marked as errors', async () => {
  const down = await startRedis();
  const { exporter, stop } = otel();
  try {
    const app = sessionApp({ session: 'Redis', engines: { session: { Redis: { url: down.url, key_prefix: 'trace-down:', command_timeout: 300 } } } });
    app.get('/read-stop-sign-in', async ctx => {
      await ctx.session('n');
      await down.stop();
      await ctx.login('ann');
      return 'never stored';
    });
    await withClient(app, async client => {
      await client.get('/count');
      exporter.reset();
      // Redis stops after the read: the new id needs no store at once; the flush that moves it fails.
      assert.is((await client.get('/read-stop-sign-in')).status, 503);
      const login = exporter.getFinishedSpans();
      assert.equal(tree(login), ['request(request.handler, session.change_id, session.flush, session.load)']);
      assert.equal(['request', 'session.load', 'session.change_id', 'session.flush'].map(name => byName(login, name)[0]!.status.code), [SpanStatusCode.ERROR, SpanStatusCode.UNSET, SpanStatusCode.UNSET, SpanStatusCode.ERROR], 'the failed move is the flush\'s error');
      for (const [path, operation] of [['/count', 'session.load'], ['/write', 'session.flush']] as const) {
        exporter.reset();
        assert.is((await client.get(path)).status, 503, path);
        const spans = exporter.getFinishedSpans();
        assert.equal(tree(spans), [`request(request.handler, ${operation})`], path);
        const [request] = byName(spans, 'request');
        const [failed] = byName(spans, operation);
        assert.is(request!.attributes.status, 503);
        for (const span of [request!, failed!]) {
          assert.is(span.status.code, SpanStatusCode.ERROR, `${path}: ${span.name} is an error`);
          assert.is(span.events[0]?.attributes?.['exception.type'], 'SESSION_STORE', 'the exception recorded is the SessionStoreError (its code)');
        }
      }
      exporter.reset();
      assert.is((await client.get('/plain')).status, 200);
      assert.equal(tree(exporter.getFinishedSpans()), ['request(request.handler)'], 'a route without the session traces no session work');
    });
  } finally {
    stop();
    await down.stop();
  }
});

test.run();

const plain = suite('tracing :: without a store');

plain('a failing route: its handler span and the 500 request span are errors; a redirect is not', async () => {
  const { exporter, stop } = otel();
  try {
    await withClient(sessionApp({}), async client => {
      assert.is((await client.get('/boom')).status, 500);
      const spans = exporter.getFinishedSpans();
      assert.equal(tree(spans), ['request(request.handler)']);
      for (const span of spans) assert.is(span.status.code, SpanStatusCode.ERROR, span.name);
      exporter.reset();
      assert.is((await client.get('/away')).status, 302);
      for (const span of exporter.getFinishedSpans()) assert.is(span.status.code, SpanStatusCode.UNSET, span.name);
      exporter.reset();
      assert.is((await client.get('/nowhere')).status, 404);
      const [missing] = exporter.getFinishedSpans();
      assert.equal([missing!.name, missing!.attributes.status, missing!.attributes.route], ['request', 404, undefined]);
    });
  } finally {
    stop();
  }
});

plain('the Cookie engine: the flush is not merged, and no span holds the sealed cookie', async () => {
  const { exporter, stop } = otel();
  try {
    const app = sessionApp({ session: 'Cookie', engines: { session: { Cookie: { secret_key: 'k'.repeat(32), revocation: false } } } });
    await withClient(app, async client => {
      await client.get('/count');
      await client.get('/count');
      const spans = exporter.getFinishedSpans();
      const flushes = byName(spans, 'session.flush');
      assert.equal(flushes.map(span => span.attributes.merged), [false, false]);
      assertNoSecret(spans, client.jar.get(app.sessions.cookieOver(false).name)!.value);
    });
  } finally {
    stop();
  }
});

plain('a store bound to the request channel is the store of its session load (runStores), and no subscriber means no event', async () => {
  const store = new AsyncLocalStorage<string>();
  const seen: (string | undefined)[] = [];
  const onLoad = () => seen.push(store.getStore());
  channels.request.start.bindStore(store, (op: RequestTrace) => `request ${op.route ?? '?'}`);
  subscribe('tracing:quickstep.session.load:start', onLoad);
  try {
    await withClient(sessionApp({}), async client => {
      await client.get('/count');
      await client.get('/count');
    });
    assert.equal(seen, ['request ?'], 'the load of the second request ran inside its request store');
  } finally {
    unsubscribe('tracing:quickstep.session.load:start', onLoad);
    channels.request.start.unbindStore(store);
  }
  assert.not.ok(channels.request.hasSubscribers || channels.sessionLoad.hasSubscribers, 'nothing left subscribed');
  assert.not.ok(channels.handler.hasSubscribers);
});

plain.run();
