import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../src/base/errors.ts';
import { Router } from '../../src/request/router.ts';

/** A router whose handlers are names, so a test reads which route answered. */
function router(...routes: [string | string[], string | RegExp, string][]): Router<string> {
  const r = new Router<string>();
  for (const [methods, pattern, name] of routes) r.add(methods, pattern, name);
  return r;
}

const plain = (params: Record<string, string> | undefined) => ({ ...params });

const match = suite('router.match()');

match('static :: exact path, case-sensitive, trailing slash significant', () => {
  const r = router(['GET', '/', 'root'], ['GET', '/about', 'about'], ['GET', '/about/', 'about-slash']);
  assert.is(r.match('GET', '/')?.handler, 'root');
  assert.is(r.match('GET', '/about')?.handler, 'about');
  assert.is(r.match('GET', '/about/')?.handler, 'about-slash');
  assert.is(r.match('GET', '/About'), undefined);
  assert.is(r.match('GET', '/about/x'), undefined);
  assert.equal(plain(r.match('GET', '/about')?.params), {});
  assert.equal(r.match('GET', '/about')?.splat, []);
});

match('static :: regex characters in a pattern are literal', () => {
  const r = router(['GET', '/a.b/(c)+', 'lit']);
  assert.is(r.match('GET', '/a.b/(c)+')?.handler, 'lit');
  assert.is(r.match('GET', '/aXb/(c)+'), undefined);
});

match('param :: one non-empty segment', () => {
  const r = router(['GET', '/users/:id', 'user'], ['GET', '/users/:id/posts/:post_id', 'post']);
  assert.equal(plain(r.match('GET', '/users/7')?.params), { id: '7' });
  assert.equal(plain(r.match('GET', '/users/7/posts/x1')?.params), { id: '7', post_id: 'x1' });
  assert.is(r.match('GET', '/users/'), undefined);
  assert.is(r.match('GET', '/users'), undefined);
  assert.is(r.match('GET', '/users/7/8'), undefined);
  assert.is(r.match('GET', '/users/7/'), undefined, 'trailing slash is significant');
});

match('param :: optional, with its slash', () => {
  const r = router(['GET', '/users/:id?', 'users']);
  const without = r.match('GET', '/users');
  assert.is(without?.handler, 'users');
  assert.ok(without && !('id' in without.params), 'an absent optional param is missing, not undefined');
  assert.equal(plain(r.match('GET', '/users/7')?.params), { id: '7' });
  assert.is(r.match('GET', '/users/'), undefined);
  assert.is(r.match('GET', '/users/7/8'), undefined);
});

match('param :: optional in the middle, and a root made only of optionals matches "/"', () => {
  const r = router(['GET', '/a/:x?/b', 'mid'], ['GET', '/:lang?', 'home']);
  assert.equal(plain(r.match('GET', '/a/b')?.params), {});
  assert.equal(plain(r.match('GET', '/a/1/b')?.params), { x: '1' });
  assert.is(r.match('GET', '/')?.handler, 'home');
  assert.equal(plain(r.match('GET', '/fr')?.params), { lang: 'fr' });
});

match('params :: null prototype, no inherited names leak', () => {
  const r = router(['GET', '/users/:id', 'user'], ['GET', '/static', 'static']);
  const m = r.match('GET', '/users/constructor');
  assert.equal(plain(m?.params), { id: 'constructor' });
  assert.is(Object.getPrototypeOf(m?.params), null);
  assert.is(m?.params['toString'], undefined);
  assert.is(Object.getPrototypeOf(r.match('GET', '/static')?.params), null);
  assert.equal(plain(r.match('GET', '/users/__proto__')?.params), { id: '__proto__' });
});

match('splat :: * is exactly one non-empty segment', () => {
  const r = router(['GET', '/img/*/thumb/*', 'thumb']);
  assert.equal(r.match('GET', '/img/cat/thumb/small')?.splat, ['cat', 'small']);
  assert.is(r.match('GET', '/img//thumb/small'), undefined);
  assert.is(r.match('GET', '/img/a/b/thumb/small'), undefined);
});

match('splat :: ** is the rest, with slashes, possibly empty', () => {
  const r = router(['GET', '/files/**', 'files'], ['GET', '/x/**/edit', 'edit']);
  assert.equal(r.match('GET', '/files/a/b/c')?.splat, ['a/b/c']);
  assert.equal(r.match('GET', '/files/')?.splat, ['']);
  assert.is(r.match('GET', '/files'), undefined, 'the slash before ** is part of the pattern');
  assert.equal(r.match('GET', '/x/a/b/edit')?.splat, ['a/b']);
});

match('splat and params :: kept apart, in order', () => {
  const r = router(['GET', '/:user/*/**', 'mix']);
  const m = r.match('GET', '/ann/repo/src/index.ts');
  assert.equal(plain(m?.params), { user: 'ann' });
  assert.equal(m?.splat, ['repo', 'src/index.ts']);
});

match('decoding :: percent-encoded static text and params', () => {
  const r = router(['GET', '/café', 'cafe'], ['GET', '/tag/:name', 'tag'], ['GET', '/100%', 'pct']);
  assert.is(r.match('GET', '/caf%C3%A9')?.handler, 'cafe');
  assert.equal(plain(r.match('GET', '/tag/hello%20world')?.params), { name: 'hello world' });
  assert.equal(plain(r.match('GET', '/tag/100%25')?.params), { name: '100%' });
  assert.equal(plain(r.match('GET', '/tag/%252F')?.params), { name: '%2F' }, 'decoded once only');
  assert.is(r.match('GET', '/100%25')?.handler, 'pct');
});

match('decoding :: %2F stays inside its segment', () => {
  const r = router(['GET', '/files/:name', 'one'], ['GET', '/a/b', 'ab'], ['GET', '/raw/**', 'rest']);
  assert.equal(plain(r.match('GET', '/files/a%2Fb')?.params), { name: 'a/b' });
  assert.equal(plain(r.match('GET', '/files/a%2fb')?.params), { name: 'a/b' });
  assert.is(r.match('GET', '/a%2Fb'), undefined, 'an encoded slash is not a separator');
  assert.equal(r.match('GET', '/raw/x%2Fy/z')?.splat, ['x/y/z']);
});

match('decoding :: malformed percent-encoding is a 400', () => {
  const r = router(['GET', '/:any', 'any']);
  for (const path of ['/%E0%A4%A', '/%zz', '/%', '/%C3']) {
    try {
      r.match('GET', path);
      assert.unreachable(`${path} should throw`);
    } catch (error) {
      assert.instance(error, HttpError);
      assert.is((error as HttpError).status, 400);
      assert.is((error as HttpError).message, 'Malformed percent-encoding in the URL path');
    }
  }
});

match('methods :: list, any, case of add()', () => {
  const r = router([['get', 'Post'], '/form', 'form'], ['*', '/any', 'any']);
  assert.is(r.match('GET', '/form')?.handler, 'form');
  assert.is(r.match('POST', '/form')?.handler, 'form');
  assert.is(r.match('PUT', '/form'), undefined);
  for (const method of ['GET', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND']) assert.is(r.match(method, '/any')?.handler, 'any');
});

match('HEAD :: falls back to GET routes, explicit HEAD wins when earlier', () => {
  const r = router(['GET', '/a', 'get-a'], ['HEAD', '/b', 'head-b'], ['GET', '/b', 'get-b'], ['GET', '/c/:x', 'get-c']);
  assert.is(r.match('HEAD', '/a')?.handler, 'get-a');
  assert.is(r.match('HEAD', '/b')?.handler, 'head-b');
  assert.is(r.match('GET', '/b')?.handler, 'get-b');
  assert.is(r.match('HEAD', '/c/1')?.handler, 'get-c');
  assert.is(router(['POST', '/p', 'post']).match('HEAD', '/p'), undefined);
});

match('order :: first registered match wins, across static and dynamic routes', () => {
  const r = router(
    ['GET', '/users/:id', 'dynamic-first'],
    ['GET', '/users/me', 'static-second'],
    ['GET', '/posts/new', 'static-first'],
    ['GET', '/posts/:id', 'dynamic-second'],
  );
  assert.is(r.match('GET', '/users/me')?.handler, 'dynamic-first');
  assert.is(r.match('GET', '/posts/new')?.handler, 'static-first');
  assert.is(r.match('GET', '/posts/7')?.handler, 'dynamic-second');
});

match('order :: pass() resumes after the matched route via from', () => {
  const r = router(
    ['GET', '/x', 'one'],
    ['POST', '/x', 'post'],
    ['GET', '/:any', 'two'],
    ['*', '/x', 'three'],
    ['GET', '/x', 'four'],
  );
  const seen: string[] = [];
  for (let m = r.match('GET', '/x'); m; m = r.match('GET', '/x', m.index + 1)) seen.push(m.handler);
  assert.equal(seen, ['one', 'two', 'three', 'four']);
  assert.is(r.match('GET', '/x', 99), undefined);
});

match('RegExp :: named groups are params, unnamed are splat, on the decoded path', () => {
  const r = router(
    ['GET', /^\/item\/(?<id>\d+)(?:\.(json|xml))?$/, 'item'],
    ['GET', /^\/say\/(?<word>[^/]+)$/, 'say'],
    ['GET', /^\/p\/(.+)$/, 'p'],
  );
  const m = r.match('GET', '/item/42.json');
  assert.equal(plain(m?.params), { id: '42' });
  assert.equal(m?.splat, ['json']);
  assert.equal(r.match('GET', '/item/42')?.splat, [''], 'a group that did not take part keeps its place');
  assert.equal(plain(r.match('GET', '/say/caf%C3%A9')?.params), { word: 'café' });
  assert.is(Object.getPrototypeOf(m?.params), null);
  assert.equal(r.match('GET', '/p/a%2Fb')?.splat, ['a/b']);
});

match('RegExp :: groups inside classes, escapes and lookarounds are counted right', () => {
  const r = router(['GET', /^\/(?<a>[(]x)\/\((?=y)(y)(?<!z)(?:q)?(?<b>\d)$/, 're']);
  const m = r.match('GET', '/(x/(y1');
  assert.equal(plain(m?.params), { a: '(x', b: '1' });
  assert.equal(m?.splat, ['y']);
});

match('RegExp :: a global flag does not make matching stateful', () => {
  const r = router(['GET', /^\/g$/g, 'g']);
  assert.is(r.match('GET', '/g')?.handler, 'g');
  assert.is(r.match('GET', '/g')?.handler, 'g');
});

match.run();

const add = suite('router.add()');

add('bad patterns :: throw a TypeError naming the pattern', () => {
  for (const pattern of ['/:', '/:1x', '/a/:id-x', 'users', '/:a/:a', '/a*', '/***', '/:id??']) {
    assert.throws(
      () => new Router().add('GET', pattern, null),
      (error: unknown) => error instanceof TypeError && error.message.includes(JSON.stringify(pattern)),
      pattern,
    );
  }
});

add('bad methods :: an empty list throws', () => {
  assert.throws(() => new Router().add([], '/', null), TypeError);
});

add('colon inside a segment :: is literal text', () => {
  const r = router(['GET', '/v1/things:batch', 'batch']);
  assert.is(r.match('GET', '/v1/things:batch')?.handler, 'batch');
});

add.run();

const allowed = suite('router.allowedMethods()');

allowed('405 :: sorted unique methods of matching routes, HEAD with GET', () => {
  const r = router(
    ['POST', '/users/:id', 'post'],
    ['GET', '/users/:id', 'get'],
    [['DELETE', 'GET'], '/users/7', 'delete'],
    ['PUT', /^\/users\/\d+$/, 'put'],
    ['PATCH', '/other', 'other'],
  );
  assert.equal(r.allowedMethods('/users/7'), ['DELETE', 'GET', 'HEAD', 'POST', 'PUT']);
  assert.equal(r.allowedMethods('/users/x'), ['GET', 'HEAD', 'POST']);
  assert.equal(r.allowedMethods('/nothing'), []);
});

allowed('405 :: explicit HEAD alone, any-method routes add nothing, decoding applies', () => {
  const r = router(['HEAD', '/h', 'h'], ['*', '/h', 'any'], ['GET', '/café', 'cafe']);
  assert.equal(r.allowedMethods('/h'), ['HEAD']);
  assert.equal(r.allowedMethods('/caf%C3%A9'), ['GET', 'HEAD']);
  assert.throws(() => r.allowedMethods('/%E0%A4%A'), (error: unknown) => error instanceof HttpError && error.status === 400);
});

allowed.run();
