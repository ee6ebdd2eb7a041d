/** The development error page: everything escaped, where the app threw, the causes, anything thrown. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { errorDetailsPage } from '../../src/response/error-details-page.ts';
import { HttpError } from '../../src/base/errors.ts';

const page = suite('errorDetailsPage');

page('shows status, name, message, the file:line of the throw and the stack, all escaped', () => {
  const error = new TypeError('bad <img src=x onerror=alert(1)> & "quotes"');
  const html = errorDetailsPage(500, error);
  assert.match(html, /<title>500 Internal Server Error<\/title>/);
  assert.match(html, /<h2>TypeError<\/h2>/);
  assert.match(html, /bad &lt;img src=x onerror=alert\(1\)&gt; &amp; &quot;quotes&quot;/);
  assert.not.match(html, /<img/);
  assert.match(html, /Thrown at <code>[^<]*test\/response\/error-details-page\.test\.ts:\d+<\/code>/);
  assert.match(html, /at [^\n]*error-details-page\.test\.ts:\d+:\d+/, 'the stack frames');
});

page('"Thrown at" skips Node\'s, packages\' and Quickstep\'s own frames; none found: no line', () => {
  const error = new Error('deep');
  error.stack = 'Error: deep\n    at inner (node:internal/x:1:2)\n    at pkg (/app/node_modules/lib/index.js:3:4)\n'
    + `    at mine (file:///app/routes.js:7:9)\n    at new Promise (<anonymous>)`;
  const html = errorDetailsPage(500, error);
  assert.match(html, /Thrown at <code>\/app\/routes\.js:7<\/code>/);
  assert.match(html, /at new Promise \(&lt;anonymous&gt;\)/);
  const framework = new Error('inside');
  framework.stack = `Error: inside\n    at x (${new URL('../../src/response/respond.ts', import.meta.url).pathname}:1:1)`;
  assert.not.match(errorDetailsPage(500, framework), /Thrown at/);
});

page('follows causes, at most five deep (a cause loop ends)', () => {
  const root = new Error('ECONNREFUSED <host>');
  const html = errorDetailsPage(503, new HttpError(503, 'store down', { cause: root }));
  assert.match(html, /<title>503 Service Unavailable<\/title>/);
  assert.match(html, /<h2>Caused by: Error<\/h2>\n<pre>ECONNREFUSED &lt;host&gt;<\/pre>/);
  const loop = new Error('a');
  (loop as { cause?: unknown }).cause = loop;
  assert.is(errorDetailsPage(500, loop).split('Caused by').length - 1, 5);
});

page('anything thrown that is not an Error is shown as text', () => {
  assert.match(errorDetailsPage(500, '<oops>'), /<h2>a thrown string<\/h2>\n<pre>&lt;oops&gt;<\/pre>/);
  assert.match(errorDetailsPage(500, undefined), /<pre>undefined<\/pre>/);
  assert.match(errorDetailsPage(500, { toString: () => 'an object' }), /a thrown object/);
});

page.run();
