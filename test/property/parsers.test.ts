/**
 * Property tests (fast-check): every input to the parsers that face clients or config either
 * parses or fails with the documented error (HttpError 4xx, ConfigError, TypeError for session
 * values), never anything else, and never hangs (each property has a time limit).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { parse as parseCookies } from 'cookie';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, HttpError, loadConfig } from 'quickstep';
import { parseUrlencoded } from '../../src/request/urlencoded.ts';
import { parseJsonBody } from '../../src/request/body-json.ts';
import { toSessionJson } from '../../src/session/session-json.ts';
import { Router } from '../../src/request/router.ts';
import { SessionFactory } from '../../src/session/factory.ts';

const RUNS = { numRuns: 300, interruptAfterTimeLimit: 5_000 } as const;
const is4xx = (error: unknown) => error instanceof HttpError && error.status >= 400 && error.status < 500;
/** Text with percent signs, plus signs, ampersands, brackets and unicode, weighted towards the edges. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('%', '+', '&', '=', 'a', '0', 'F', '/', '[', ']', '{', '}', '"', '\\', ':', ',', '$', ';', ' ', '\u0000', '\ud800', 'é'), maxLength: 200 }),
);

test('cookie parser: any header parses to strings, never throws', () => {
  fc.assert(fc.property(hostile, header => {
    const cookies = parseCookies(header);
    for (const value of Object.values(cookies)) assert.ok(value === undefined || typeof value === 'string');
  }), RUNS);
});

test('id validation: only 32 base64url characters pass; generated ids always pass', () => {
  const factory = Object.create(SessionFactory.prototype) as SessionFactory;
  fc.assert(fc.property(hostile, id => {
    assert.is(factory.validateId(id), /^[A-Za-z0-9_-]{32}$/.test(id));
  }), RUNS);
  for (let i = 0; i < 1000; i++) assert.ok(factory.validateId(factory.generateId()));
});

test('urlencoded: parses or a 400, values are strings or arrays of strings', () => {
  fc.assert(fc.property(hostile, text => {
    try {
      const values = parseUrlencoded(text, 'query string');
      for (const value of Object.values(values)) assert.ok(typeof value === 'string' || (Array.isArray(value) && value.every(v => typeof v === 'string')));
    } catch (error) {
      assert.ok(is4xx(error), `unexpected ${String(error)}`);
    }
  }), RUNS);
});

test('urlencoded: round-trips what URLSearchParams encodes', () => {
  fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), record => {
    const text = new URLSearchParams(record).toString();
    const wellFormed = Object.values(record).concat(Object.keys(record)).every(s => !/\p{Cs}/u.test(s));
    if (!wellFormed) return;
    assert.equal(Object.entries(parseUrlencoded(text, 'form body')), Object.entries(record));
  }), RUNS);
});

const jsonish = fc.oneof(
  hostile,
  fc.json({ maxDepth: 6 }),
  fc.integer({ min: 1, max: 5_000 }).map(n => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 1, max: 5_000 }).map(n => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constantFrom('1e400', '[1e400]', '{"__proto__":{"x":1}}', '{"\\u005f_proto__":1}', '{"constructor":{"prototype":{}}}', '-1e309', '"\\ud800"'),
);

test('JSON body: parses to JSON-safe data or a 400; a parsed value survives the session check', () => {
  fc.assert(fc.property(jsonish, text => {
    let value: unknown;
    try {
      value = parseJsonBody(text);
    } catch (error) {
      assert.ok(is4xx(error), `unexpected ${String(error)} for ${text.slice(0, 80)}`);
      return;
    }
    // What body() accepts, a session must be able to store (DESIGN §5: no 500 later).
    toSessionJson('body', value);
  }), RUNS);
});

test('session JSON check: JSON data passes; anything else is a TypeError', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), value => {
    const { copy } = toSessionJson('k', value);
    assert.equal(JSON.parse(JSON.stringify(copy)), JSON.parse(JSON.stringify(value)));
  }), RUNS);
  fc.assert(fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true }), value => {
    try {
      toSessionJson('k', value);
    } catch (error) {
      assert.instance(error, TypeError);
    }
  }), RUNS);
  const deep = (n: number): unknown => { let v: unknown = 1; for (let i = 0; i < n; i++) v = [v]; return v; };
  assert.throws(() => toSessionJson('k', deep(100_000)), (e: unknown) => e instanceof TypeError);
});

test('router: matching any path answers a match, undefined or a 400, and params are decoded strings', () => {
  const router = new Router<string>();
  router.add('GET', '/', 'root');
  router.add('GET', '/users/:id', 'user');
  router.add('GET', '/files/**', 'files');
  router.add(['GET', 'POST'], '/a/:b?/*', 'mixed');
  router.add('*', /^\/re\/(?<x>[^/]+)$/, 'regex');
  const path = fc.oneof(hostile.map(s => '/' + s), fc.array(fc.constantFrom('users', 'files', 'a', 're', '%2F', '%25', '%', '%zz', 'x', '', 'é', '..'), { maxLength: 8 }).map(p => '/' + p.join('/')));
  fc.assert(fc.property(fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'X'), path, (method, p) => {
    try {
      const m = router.match(method, p);
      if (m) for (const v of [...Object.values(m.params), ...m.splat]) assert.type(v, 'string');
      router.allowedMethods(p);
    } catch (error) {
      assert.ok(is4xx(error), `unexpected ${String(error)} for ${JSON.stringify(p)}`);
    }
  }), RUNS);
});

test('${VAR} interpolation: any string value loads or is a ConfigError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-prop-'));
  try {
    const value = fc.string({ unit: fc.constantFrom('$', '{', '}', ':', '-', 'A', '_', '1', 'x', ' '), maxLength: 30 });
    fc.assert(fc.property(value, fc.dictionary(fc.constantFrom('A', '_', 'A1', 'X'), fc.string({ maxLength: 10 })), (text, env) => {
      writeFileSync(join(dir, 'config.yml'), `appname: ${JSON.stringify(text)}\n`);
      try {
        const settings = loadConfig({ dir, environment: 'development', env }) as unknown as { appname?: unknown };
        assert.type(settings.appname, 'string');
        if (!text.includes('$')) assert.is(settings.appname, text);
      } catch (error) {
        assert.instance(error, ConfigError, `unexpected ${String(error)} for ${JSON.stringify(text)}`);
      }
    }), { numRuns: 150, interruptAfterTimeLimit: 5_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
