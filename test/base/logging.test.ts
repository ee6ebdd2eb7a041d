/**
 * What an app logs: one access line per request when access_log is on (never the query string,
 * a cookie or a body), the logging keywords through the app's logger, and escapeHtml.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as dsl from '../../src/dsl.ts';
import { escapeHtml } from '../../src/index.ts';
import { serve } from '../support/serve.ts';
import { stderrOf } from '../support/stderr.ts';

/** The lines written to stderr while `body` runs. */
const capturingStderr = async (body: () => Promise<void>): Promise<string[]> => (await stderrOf(body)).split('\n').filter(Boolean);

const logging = suite('logging');

logging('access_log :: one line per request: method, path without query, status, duration, bytes', async () => {
  const lines = await capturingStderr(() =>
    serve(app => {
      app.post('/login', async ctx => {
        await ctx.session('user', 'ann');
        return 'welcome';
      });
      app.get('/nowhere-else', ctx => ctx.sendError('gone', 410));
    }, async client => {
      await client.post('/login?token=s3cret', { form: { password: 'hunter2' }, headers: { cookie: 'tracking=abc123' } });
      await client.get('/nowhere-else');
    }, { log: 'info', access_log: true }));
  const access = lines.filter(line => / info: (GET|POST) /.test(line));
  assert.is(access.length, 2, lines.join('\n'));
  assert.match(access[0]!, / info: POST \/login 200 \d+\.\dms 7b$/);
  assert.match(access[1]!, / info: GET \/nowhere-else 410 \d+\.\dms 4b$/);
  const all = lines.join('\n');
  for (const secret of ['s3cret', 'hunter2', 'abc123', 'sid=']) assert.not.ok(all.includes(secret), `${secret} is not logged`);
});

logging('access_log :: off by default outside development; on by default in development', async () => {
  const production = await capturingStderr(() => serve(app => app.get('/', () => 'x'), async client => void (await client.get('/')), { log: 'info', environment: 'production' }));
  assert.equal(production.filter(line => line.includes('GET /')), []);
  const development = await capturingStderr(() => serve(app => app.get('/', () => 'x'), async client => void (await client.get('/')), { log: 'info', environment: 'development' }));
  assert.is(development.filter(line => line.includes('GET / 200')).length, 1);
});

logging('keywords :: debug, info, warning, error log through the app (error does not throw), filtered by level', async () => {
  const lines = await capturingStderr(() =>
    serve(app => {
      app.get('/', ctx => {
        dsl.debug('not shown at warning');
        dsl.info('nor this');
        dsl.warning('low stock:', 3, { sku: 'a1' });
        dsl.error('payment failed for', 'order 7');
        ctx.log('warning', 'from ctx');
        return 'still answered';
      });
    }, async client => {
      assert.is((await client.get('/')).text, 'still answered');
    }, { log: 'warning', access_log: false }));
  assert.equal(lines.map(line => line.replace(/^\[quickstep\] \S+ /, '')), [
    "warning: low stock: 3 { sku: 'a1' }",
    'error: payment failed for order 7',
    'warning: from ctx',
  ]);
});

logging('escapeHtml :: the five characters OWASP names; other text unchanged', () => {
  assert.is(escapeHtml(`<script>alert("x" & 'y')</script>`), '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;');
  assert.is(escapeHtml('plain café'), 'plain café');
  assert.is(escapeHtml(42), '42');
  assert.is(escapeHtml('a<b') + escapeHtml('c>d'), 'a&lt;bc&gt;d', 'no state carried between calls');
});

logging.run();
