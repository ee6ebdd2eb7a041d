/**
 * The example app as a Dancer2-style folder: pages from views/ inside the layout, the stylesheet
 * and script from public/, and public/404.html. Registered per engine by http.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { browser, ROOT, type Ctx } from './harness.ts';

export function siteFiles(test: Test<Ctx>): void {
  test('views :: every page is in the layout, which links the public stylesheet', async ctx => {
    const page = (await browser(ctx).get('/')).text;
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /<link rel="stylesheet" href="\/css\/site.css">/);
    assert.match(page, /<title>Welcome · Quickstep<\/title>/);
  });

  test('public :: /css/site.css, /js/theme.js and /404.html are served from example-app/public', async ctx => {
    const client = browser(ctx);
    const css = await client.get('/css/site.css');
    assert.is(css.status, 200);
    assert.is(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.is(css.text, readFileSync(join(ROOT, 'example-app/public/css/site.css'), 'utf8'));
    assert.is(css.setCookies.length, 0, 'a public file never touches the session');
    assert.is((await client.get('/css/site.css', { headers: { 'if-none-match': css.headers.get('etag')! } })).status, 304);
    assert.match((await client.get('/js/theme.js')).headers.get('content-type')!, /^text\/javascript/);
    assert.match((await client.get('/404.html')).text, /<h1>Not found<\/h1>/);
    assert.is((await client.get('/css/..%2f..%2fconfig.yml')).status, 404);
  });
}
