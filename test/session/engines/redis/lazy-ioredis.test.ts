/**
 * `import 'quickstep'` does not load ioredis: only the first use of a Redis session does (the
 * engine imports redis/client.ts then). Checked in a fresh process, from the require cache
 * (ioredis is CommonJS, so loading it from ESM still puts it there).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '../../../..');

const SCRIPT = `
import { createRequire } from 'node:module';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some(path => path.includes('/node_modules/ioredis/'));
const { createApp } = await import('quickstep');
const memory = createApp({ log: 'none' });
const redis = createApp({ log: 'none', session: 'Redis', engines: { session: { Redis: { server: '127.0.0.1:1', command_timeout: 200, connect_timeout: 200 } } } });
const afterImport = loaded();
redis.get('/', async ctx => String(await ctx.session('user')));
const { url } = await redis.listen(0, '127.0.0.1');
const beforeUse = loaded();
const status = (await fetch(url + '/', { headers: { cookie: 'sid=' + 'a'.repeat(32) } })).status;
console.log(JSON.stringify({ afterImport, beforeUse, status, afterUse: loaded() }));
await redis.close();
await memory.close();
`;

const lazy = suite('ioredis is loaded lazily');

lazy('import quickstep and build a Redis app :: no ioredis; the first session use loads it', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=quickstep-source', '--input-type=module', '-e', SCRIPT], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  assert.is(child.status, 0, child.stderr);
  const seen = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
  assert.equal(seen, { afterImport: false, beforeUse: false, status: 503, afterUse: true });
});

lazy.run();
