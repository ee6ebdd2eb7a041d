/** upload(): multipart files and fields, the three limits (413), and temporary files removed whatever happens. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from '../../src/create-app.ts';
import { body, bodyParameters, param, params, upload } from '../../src/dsl.ts';
import type { Upload } from '../../src/request/upload.ts';
import { serve, withoutCsrf } from '../support/serve.ts';

const uploads = suite('upload()');

const folders = () => new Set(readdirSync(tmpdir()).filter(name => name.startsWith('quickstep-upload-')));
const newFolders = (before: Set<string>) => [...folders()].filter(name => !before.has(name));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function form(files: Array<[string, string, string]>, fields: Record<string, string> = {}): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  for (const [field, filename, content] of files) data.append(field, new Blob([content], { type: 'text/plain' }), filename);
  return data;
}

uploads('files and fields :: upload(name) describes the file; body() holds the fields; the temp file is gone after', async () => {
  const seen: { path?: string; content?: string; streamed?: string } = {};
  const before = folders();
  await serve(app => {
    app.post('/up', async () => {
      const doc = (await upload('doc')) as Upload;
      seen.path = doc.path;
      seen.content = readFileSync(doc.path, 'utf8');
      let streamed = '';
      for await (const chunk of doc.stream()) streamed += chunk;
      seen.streamed = streamed;
      const many = (await upload('many')) as Upload[];
      return { fields: await body(), doc: { field: doc.field, filename: doc.filename, type: doc.type, size: doc.size }, many: many.map(f => f.filename), none: (await upload('none')) ?? null };
    });
  }, async client => {
    const data = form([['doc', 'notes.txt', 'hello upload'], ['many', 'a.txt', 'a'], ['many', 'b.txt', 'b']], { title: 'Mine', tag: 'x' });
    data.append('tag', 'y');
    const res = await fetch(client.url + '/up', { method: 'POST', body: data });
    assert.is(res.status, 200);
    assert.equal(await res.json(), {
      fields: { title: 'Mine', tag: ['x', 'y'] },
      doc: { field: 'doc', filename: 'notes.txt', type: 'text/plain', size: 12 },
      many: ['a.txt', 'b.txt'],
      none: null,
    });
    assert.is(seen.content, 'hello upload');
    assert.is(seen.streamed, 'hello upload');
    await until(() => !existsSync(seen.path!), 'the temporary file to be removed');
    await until(() => newFolders(before).length === 0, 'the temporary folder to be removed');
  });
});

uploads('not multipart :: upload() is undefined and body() parses as before', () =>
  serve(app => app.post('/up', async () => ({ file: (await upload('doc')) ?? null, body: await body() })), async client => {
    assert.equal((await client.post('/up', { json: { a: 1 } })).json(), { file: null, body: { a: 1 } });
  }));

uploads('limits :: max_body_size, max_file_size and max_files are 413s; no temporary file stays', async () => {
  const before = folders();
  const route = (app: ReturnType<typeof createApp>) => app.post('/up', async () => ((await upload('f')) ? 'stored' : 'none'));
  await serve(route, async client => {
    const whole = await fetch(client.url + '/up', { method: 'POST', body: form([['f', 'big.txt', 'x'.repeat(5000)]]) });
    assert.is(whole.status, 413);
    assert.match(await whole.text(), /max_body_size/);
  }, { max_body_size: 4000 });
  await serve(route, async client => {
    const file = await fetch(client.url + '/up', { method: 'POST', body: form([['f', 'big.txt', 'x'.repeat(2000)]]) });
    assert.is(file.status, 413);
    assert.match(await file.text(), /max_file_size/);
    const fits = await fetch(client.url + '/up', { method: 'POST', body: form([['f', 'ok.txt', 'x'.repeat(1000)]]) });
    assert.is(await fits.text(), 'stored');
  }, { max_body_size: 100_000, max_file_size: 1000 });
  await serve(route, async client => {
    const count = await fetch(client.url + '/up', { method: 'POST', body: form([['f', '1', 'a'], ['f', '2', 'b'], ['f', '3', 'c']]) });
    assert.is(count.status, 413);
    assert.match(await count.text(), /max_files/);
  }, { max_files: 2 });
  await until(() => newFolders(before).length === 0, 'the temporary folders to be removed');
});

uploads('defaults :: max_file_size is max_body_size, max_files is 10', () => {
  const { settings } = createApp({ max_body_size: 1234 });
  assert.is(settings.max_file_size, 1234);
  assert.is(settings.max_files, 10);
});

uploads('route error :: a 500 after the upload still removes its temporary file', async () => {
  let path = '';
  await serve(app => app.post('/up', async () => {
    path = ((await upload('f')) as Upload).path;
    throw new Error('the route failed');
  }), async client => {
    const res = await fetch(client.url + '/up', { method: 'POST', body: form([['f', 'a.txt', 'abc']]) });
    assert.is(res.status, 500);
    assert.ok(path !== '');
    await until(() => !existsSync(path), 'the temporary file to be removed');
  });
});

uploads('client abort :: a half-sent upload leaves no temporary file', async () => {
  const before = folders();
  let routeEnded = false;
  const app = createApp(withoutCsrf({ log: 'none', max_body_size: 10_000_000, max_file_size: 10_000_000 }));
  app.post('/up', async () => {
    try {
      await upload('f');
    } finally {
      routeEnded = true;
    }
    return 'done';
  });
  const { port } = await app.listen(0, '127.0.0.1');
  const socket = connect(port, '127.0.0.1');
  await new Promise(resolve => socket.once('connect', resolve));
  const boundary = 'XyZ';
  socket.write(`POST /up HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: 5000000\r\n\r\n`);
  socket.write(`--${boundary}\r\ncontent-disposition: form-data; name="f"; filename="big.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`);
  socket.write(Buffer.alloc(100_000, 1));
  await until(() => newFolders(before).some(name => readdirSync(`${tmpdir()}/${name}`).length > 0), 'the upload to reach a temporary file');
  socket.destroy();
  await until(() => routeEnded, 'the route to see the abort');
  await until(() => newFolders(before).length === 0, 'the temporary folder to be removed after the abort');
  await app.close();
});

uploads('malformed :: a multipart body without a boundary is a 400', () =>
  serve(app => app.post('/up', async () => String(await upload('f'))), async client => {
    const res = await client.post('/up', { headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    assert.is(res.status, 400);
  }));

uploads('param :: once upload() or body() read the form, param(), params() and bodyParameters() see its text fields; before, route and query only', () =>
  serve(app => {
    app.post('/docs/:id', async () => {
      const before = { title: param('title') ?? null, q: param('q'), body: bodyParameters() };
      const doc = (await upload('doc')) as Upload;
      return { before, title: param('title'), tag: param('tag'), id: param('id'), q: param('q'), params: params(), body: bodyParameters(), file: doc.filename };
    });
    app.post('/fields', async () => {
      await body();
      return String(param('title'));
    });
  }, async client => {
    const data = form([['doc', 'notes.txt', 'hello']], { title: 'Mine', tag: 'x', id: 'from the form', q: 'from the form' });
    data.append('tag', 'y');
    const res = await fetch(client.url + '/docs/7?q=query', { method: 'POST', body: data });
    assert.is(res.status, 200);
    assert.equal(await res.json(), {
      before: { title: null, q: 'query', body: {} },
      title: 'Mine',
      tag: ['x', 'y'],
      id: '7',
      q: 'from the form',
      params: { q: 'from the form', title: 'Mine', tag: ['x', 'y'], id: '7' },
      body: { title: 'Mine', tag: ['x', 'y'], id: 'from the form', q: 'from the form' },
      file: 'notes.txt',
    });
    const fields = await fetch(client.url + '/fields', { method: 'POST', body: form([['doc', 'a.txt', 'a']], { title: 'Via body()' }) });
    assert.is(await fields.text(), 'Via body()');
  }));

uploads('param :: after a read that failed, param() throws its error, as for a form body that does not parse', () =>
  serve(app => app.post('/up', async () => {
    await upload('doc').catch(() => undefined);
    return String(param('title'));
  }), async client => {
    const res = await fetch(client.url + '/up', { method: 'POST', body: form([['doc', 'big.txt', 'x'.repeat(5000)]], { title: 'Mine' }) });
    assert.is(res.status, 413);
    assert.match(await res.text(), /max_body_size/);
  }, { max_body_size: 4000 }));

uploads.run();
