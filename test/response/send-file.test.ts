/** sendFile(): a file from anywhere, with the public files' headers, 304, Range and Content-Disposition. */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sendFile } from '../../src/dsl.ts';
import { parseRange } from '../../src/response/send-file.ts';
import { serve } from '../support/serve.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';

const send = suite('sendFile()');
const root = siteDir({ 'data/report.json': '{"ok":true}', 'data/notes.bin': 'abcdef' });

send('a file: its type, length, ETag; Range and 304 as for public files', () =>
  serve(app => {
    app.get('/report', () => sendFile(join(root, 'data/report.json')));
    app.get('/ctx', async ctx => { await ctx.sendFile(join(root, 'data/notes.bin'), { contentType: 'text/plain' }); });
  }, async client => {
    const res = await client.get('/report');
    assert.is(res.status, 200);
    assert.equal(res.json(), { ok: true });
    assert.is(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.is(res.headers.get('content-disposition'), null, 'inline unless asked');
    const etag = res.headers.get('etag')!;
    assert.is((await client.get('/report', { headers: { 'if-none-match': etag } })).status, 304);
    const part = await client.get('/ctx', { headers: { range: 'bytes=2-3' } });
    assert.is(part.status, 206);
    assert.is(part.text, 'cd');
    assert.is(part.headers.get('content-type'), 'text/plain');
  }));

send('Content-Disposition on request, with RFC 8187 for non-ASCII names', () =>
  serve(app => {
    app.get('/download', () => sendFile(join(root, 'data/notes.bin'), { filename: 'résumé "1".bin' }));
    app.get('/plain', () => sendFile(join(root, 'data/notes.bin'), { filename: 'notes.bin' }));
    app.get('/inline', () => sendFile(join(root, 'data/notes.bin'), { disposition: 'inline' }));
  }, async client => {
    assert.is((await client.get('/download')).headers.get('content-disposition'), `attachment; filename="r_sum_ _1_.bin"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.bin`);
    assert.is((await client.get('/plain')).headers.get('content-disposition'), 'attachment; filename="notes.bin"');
    assert.is((await client.get('/inline')).headers.get('content-disposition'), 'inline; filename="notes.bin"');
  }));

send('a missing file or a folder is a 404', () =>
  serve(app => {
    app.get('/missing', () => sendFile(join(root, 'nope')));
    app.get('/dir', () => sendFile(root));
  }, async client => {
    assert.is((await client.get('/missing')).status, 404);
    assert.is((await client.get('/dir')).status, 404);
  }));

send('parseRange :: the grammar, clamping, unsatisfiable', () => {
  assert.equal(parseRange('bytes=0-0', 10), [0, 0]);
  assert.equal(parseRange('bytes=3-', 10), [3, 9]);
  assert.equal(parseRange('bytes=-20', 10), [0, 9]);
  assert.is(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.is(parseRange('bytes=-0', 10), 'unsatisfiable');
  assert.is(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.is(parseRange('bytes=a-b', 10), undefined);
  assert.is(parseRange('items=0-1', 10), undefined);
  assert.is(parseRange('bytes=-', 10), undefined);
});

send.after(() => removeDir(root));
send.run();
