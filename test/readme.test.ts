/**
 * README.md's fenced blocks, every one of them, as printed: a user copies them first. A block
 * that no check below covers fails the first test, so the README cannot drift from the code.
 *
 * - ```ts and ```js blocks are files of one TypeScript program (the repository's own tsc, its
 *   strict options), where `quickstep` is this repository's src/ through the `quickstep-source`
 *   condition. What is checked is the README's text; the only changes, all made by `program()`:
 *   - a line that is only `...` becomes the comment `// ...`;
 *   - a block with no `import` of its own (a fragment) gets one line importing every value
 *     `quickstep` exports (the keywords), and, when a line starts with `await` (code that runs
 *     inside a request), its lines become the body of `get('/readme-N', async () => { ... })`;
 *   - the names the prose around a block implies are declared before it (FREE_NAMES, by the
 *     block's heading): `page` in "Sessions", `MyEngine` in "Writing a session engine", ...
 *   The blocks share one program, as an app's files would: "Sessions"'s `declare module` applies
 *   to all of them. A block with its own imports and no FREE_NAMES is a whole program, and must
 *   also run: PROGRAMS names the test of this file that runs it.
 * - ```yaml blocks are config.yml in a folder of their own, loaded by `loadConfig` with the
 *   environment variables they name, and checked for what they promise (YAML_CHECKS).
 * - ```sh blocks: each command line is run here where that is cheap (RUN_HERE), or names the test
 *   file that runs it (COVERED_BY).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as quickstep from '../src/index.ts';
import { ConfigError, loadConfig, type Settings } from '../src/index.ts';
import { TestClient } from '../src/testing/client.ts';
import { certificate } from './support/certificate.ts';

const ROOT = join(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const THIS_FILE = 'test/readme.test.ts';

interface Block {
  lang: string;
  /** The nearest heading above the block, without its #s. */
  heading: string;
  /** README.md line of the block's first line of code (1-based). */
  line: number;
  text: string;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    // Indented too (a block inside a list item), so that no block escapes the checks.
    const fence = /^( *)```(\S*)\s*$/.exec(lines[i]!);
    if (fence) {
      const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
      assert.ok(end > i, `README.md line ${i + 1}: a fence that never closes`);
      const text = lines.slice(i + 1, end).map(line => line.slice(fence[1]!.length)).join('\n');
      blocks.push({ lang: fence[2]!, heading, line: i + 2, text });
      i = end;
    } else if (/^#+ /.test(lines[i]!)) {
      heading = lines[i]!.replace(/^#+ /, '');
    }
  }
  return blocks;
}

const blocks = readmeBlocks();
const sources = blocks.filter(block => block.lang === 'ts' || block.lang === 'js');

/** Free names the prose implies, declared before each ts/js block under that heading. */
const FREE_NAMES: Record<string, string> = {
  'Views and files': "import { Readable } from 'node:stream';\ndeclare function rows(): Iterable<string>;",
  Sessions: 'declare const page: string;',
  'Users and their devices': 'declare const user: { id: string };',
  'Renewal, recent login, a cap per user': 'declare const user: { id: string };',
  CSRF: 'declare const handler: () => string;',
  // The validation example's schema library: any Standard Schema one would do.
  'Routes and requests': "import { z } from 'zod';",
  // "new MyStore(...)": the reader's own class implementing SessionStore and IdChange (the block imports the types).
  'Writing a session engine': [
    "import { tmpdir } from 'node:os';",
    'interface MyStore extends SessionStore, IdChange {}',
    'declare class MyStore { constructor(path: string, sessionDuration: number) }',
  ].join('\n'),
};

/** Whole programs (own imports, no free names), by heading: the title of the test below that runs each. */
const PROGRAMS: Record<string, string> = {
  'Ten lines': 'the Ten lines run as printed: a login echoed escaped, a logout, bad input a 400',
  Install: 'the node:test example passes under node --test',
  'Checking it: the ASVS kit': 'the ASVS kit example passes under node --test over HTTPS, every applicable row',
};

const isProgram = (block: Block) => /^import .* from 'quickstep/m.test(block.text) && !(block.heading in FREE_NAMES);

/** sh command lines this file runs itself, by `<heading>: <command>` (its comment left out). */
const RUN_HERE: Record<string, () => Promise<void>> = {
  // The whole suite is what runs this file: here the runner on one small file, for its last line.
  'Quickstep: npm test': async () => {
    const ran = await run('npm', ['test', '--', 'test/architecture.test.ts'], ROOT);
    const last = ran.stdout.trim().split('\n').at(-1);
    assert.ok(ran.code === 0, `npm test exited with ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
    assert.match(last ?? '', /^[1-9]\d* passed, 0 failed$/);
  },
};

/** sh command lines another test file runs, by `<heading>: <command>`. */
const COVERED_BY: Record<string, string> = {
  'Quickstep: npm install && npm start': 'test/example-app/start.test.ts',
  'Install: npm install quickstep': 'test/package/package.test.ts',
  'Install: npx quickstep new my-app': 'test/package/package.test.ts',
  'Install: cd my-app && npm install && npm start': 'test/package/package.test.ts',
  'Install: npm test': 'test/package/package.test.ts',
  'Install: npm run typecheck': 'test/package/package.test.ts',
  // The scaffolded app run as printed, and the key formula's line, against a real redis-server.
  'Running on Redis: SESSION_ENGINE=Redis REDIS_URL=redis://127.0.0.1:6379 npm start': 'test/package/package.test.ts',
  // The ACL rule is redisAclRule's (checked there), and the engine contract runs under it.
  'Running on Redis: redis-cli ACL SETUSER quickstep on \'>a-long-password\' resetkeys ~dancer.session:* resetchannels -@all +client|setname +info +select +quit +evalsha +eval +scan +get +set +del +zrange +zrem +wait +expire +hmget +hset +renamenx +time +type +zadd +zcard +zscore': 'test/session/engines/redis/acl.test.ts',
  [`Running on Redis: redis-cli -u redis://127.0.0.1:6379 GET "dancer.session:$(node -p "require('node:crypto').createHash('sha256').update(process.argv[1]).digest('base64url')" "$ID")"`]: 'test/package/package.test.ts',
};

/** What each ```yaml block promises, by heading: the environment it names, and a check of the settings. */
const YAML_CHECKS: Record<string, (load: (env: Record<string, string>) => Settings) => void> = {
  'config.yml': load => {
    const plain = load({});
    assert.equal([plain.port, plain.session.engineName], [3000, 'Memory']);
    const redis = load({ PORT: '4000', SESSION_ENGINE: 'Redis', REDIS_URL: 'redis://10.0.0.5:6380' });
    assert.equal([redis.port, redis.session.engineName], [4000, 'Redis']);
    assert.is(redis.session.engineOptions.url, 'redis://10.0.0.5:6380');
    for (const { session } of [plain, redis]) assert.equal([session.policy.session_duration, session.policy.hash_ids], [3600, true]);
  },
  // The tls block's files are read at start-up: where they are missing (here), a ConfigError says which.
  'Running on Redis': load => {
    assert.throws(() => load({ REDIS_PASSWORD: 'x' }), (error: unknown) => error instanceof ConfigError && /engines\.session\.Redis\.tls\.ca: expected a readable PEM file .*ENOENT/.test(error.message));
  },
  'Running on the Cookie engine': load => {
    assert.is(load({ SESSION_SECRET: 'x'.repeat(32) }).session.engineName, 'Cookie');
    // "at least 32 bytes; the process will not start without it"
    for (const env of [{}, { SESSION_SECRET: 'x'.repeat(31) }]) {
      assert.throws(() => load(env), (error: unknown) => error instanceof ConfigError && /secret_key/.test(error.message), JSON.stringify(env));
    }
  },
};

const shCommands = blocks
  .filter(block => block.lang === 'sh')
  .flatMap(block => block.text.replace(/\\\n/g, ' ').split('\n').map(line => line.replace(/\s+#.*$/, '').trim()).filter(Boolean).map(line => `${block.heading}: ${line}`));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeout = 60_000): Promise<Ran> {
  return new Promise(resolve => {
    execFile(command, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const readme = suite('README');

readme('every fenced block is covered: a new one fails here until a check covers it', () => {
  const known = ['ts', 'js', 'yaml', 'sh'];
  const problems: string[] = [];
  for (const block of blocks) {
    const where = `README.md line ${block.line} (under "${block.heading}")`;
    if (!known.includes(block.lang)) problems.push(`${where}: a \`\`\`${block.lang} block; make it one of ${known.join(', ')}, or teach ${THIS_FILE} to check it`);
    if (block.lang === 'yaml' && !(block.heading in YAML_CHECKS)) problems.push(`${where}: add what this YAML promises to YAML_CHECKS`);
    if (sources.includes(block) && isProgram(block) && !(block.heading in PROGRAMS)) {
      problems.push(`${where}: a whole program; run it in a test of ${THIS_FILE} and name that test in PROGRAMS (or its free names in FREE_NAMES)`);
    }
  }
  for (const command of shCommands.filter(command => !(command in RUN_HERE) && !(command in COVERED_BY))) {
    problems.push(`README.md runs \`${command}\`: cover it, here (RUN_HERE) or by a test file (COVERED_BY)`);
  }
  for (const file of Object.values(COVERED_BY).filter(file => !existsSync(join(ROOT, file)))) problems.push(`COVERED_BY names ${file}, which does not exist`);
  // The tables name only what the README still has, so that they cannot drift either.
  const stale = [
    ...[...Object.keys(RUN_HERE), ...Object.keys(COVERED_BY)].filter(command => !shCommands.includes(command)),
    ...[...Object.keys(FREE_NAMES), ...Object.keys(PROGRAMS)].filter(heading => !sources.some(block => block.heading === heading)),
    ...Object.keys(YAML_CHECKS).filter(heading => !blocks.some(block => block.lang === 'yaml' && block.heading === heading)),
  ];
  for (const key of stale) problems.push(`${THIS_FILE} has an entry for "${key}", which README.md no longer has`);
  assert.ok(problems.length === 0, problems.join('\n'));
});

/**
 * A folder where `quickstep` is this repository (node_modules/quickstep a link to it), with
 * @types/node from the repository: what an app's folder looks like after `npm install quickstep`.
 */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-readme-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'quickstep'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
  // What the Validation and Tracing examples import besides quickstep (the repository's devDependencies).
  for (const name of ['zod', '@opentelemetry']) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }));
  return dir;
}

interface File {
  name: string;
  text: string;
  /** Lines added before the block's first line: tsc's line L is README.md's block.line + L - 1 - added. */
  added: number;
  block: Block;
}

/** The block as a file of the program: the changes listed at the top of this file, no others. */
function program(block: Block, index: number): File {
  const text = block.text.replace(/^(\s*)\.\.\.$/gm, '$1// ...');
  const fragment = !/^import /m.test(text);
  const before = fragment ? [`import { ${Object.keys(quickstep).join(', ')} } from 'quickstep';`] : [];
  before.push(...(FREE_NAMES[block.heading]?.split('\n') ?? []));
  let after = '';
  if (fragment && /^await /m.test(text)) {
    before.push(`get('/readme-${index}', async () => {`);
    after = '\n});';
  }
  const name = `block-${index}-line-${block.line}.${block.lang === 'js' ? 'mjs' : 'ts'}`;
  return { name, text: [...before, text].join('\n') + after + '\n', added: before.length, block };
}

readme('every ts and js block type-checks against quickstep (the repository\'s tsc, strict)', async () => {
  const dir = project();
  try {
    const files = sources.map(program);
    for (const file of files) writeFileSync(join(dir, file.name), file.text);
    const repo = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''));
    const compilerOptions = { ...repo.compilerOptions, allowJs: true, checkJs: true };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: files.map(file => file.name) }, null, 2));
    const checked = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], dir, 120_000);
    // tsc's file(line,col) as the README's line, so the message points at what to fix.
    const output = (checked.stdout + checked.stderr).replace(/^(block-\S+)\((\d+),(\d+)\)/gm, (whole, name: string, line: string, col: string) => {
      const file = files.find(f => f.name === name);
      const at = file ? file.block.line + Number(line) - 1 - file.added : NaN;
      return file && Number(line) > file.added ? `README.md:${at}:${col} (${name})` : whole;
    });
    assert.ok(checked.code === 0 && output.trim() === '', `tsc on README.md's blocks:\n${output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

readme(PROGRAMS.Install!, async () => {
  const block = sources.find(b => b.heading === 'Install' && /from 'node:test'/.test(b.text));
  assert.ok(block, 'the node:test example under "Install"');
  const dir = project();
  try {
    writeFileSync(join(dir, 'session.test.mjs'), block.text);
    // tsx for quickstep's own .ts sources (Node 20 cannot strip types); the file is the README's.
    const args = ['--import', import.meta.resolve('tsx'), '--conditions=quickstep-source', '--test', '--test-reporter=tap', 'session.test.mjs'];
    const tested = await run(process.execPath, args, dir);
    assert.ok(tested.code === 0, `node --test exited with ${tested.code}\n${tested.stdout}\n${tested.stderr}`);
    assert.match(tested.stdout, /^# pass 1$/m);
    assert.match(tested.stdout, /^# fail 0$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

readme(PROGRAMS['Checking it: the ASVS kit']!, async () => {
  const block = sources.find(b => b.heading === 'Checking it: the ASVS kit');
  assert.ok(block, 'the asvsSuite example');
  const dir = project();
  try {
    // The key.pem and cert.pem it reads: a certificate for 127.0.0.1, made here.
    const tls = certificate();
    writeFileSync(join(dir, 'key.pem'), tls.key);
    writeFileSync(join(dir, 'cert.pem'), tls.cert);
    writeFileSync(join(dir, 'asvs.test.ts'), block.text);
    const args = ['--import', import.meta.resolve('tsx'), '--conditions=quickstep-source', '--test', '--test-reporter=tap', 'asvs.test.ts'];
    const tested = await run(process.execPath, args, dir);
    assert.ok(tested.code === 0, `node --test exited with ${tested.code}\n${tested.stdout}\n${tested.stderr}`);
    // 21 rows: 16 pass; the timeouts, the account steps and the sessions page are not described (5 skipped).
    assert.match(tested.stdout, /^# pass 16$/m, tested.stdout);
    assert.match(tested.stdout, /^# skipped 5$/m);
    assert.match(tested.stdout, /^# fail 0$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

readme('every yaml block loads through loadConfig and gives what it promises', () => {
  for (const block of blocks.filter(b => b.lang === 'yaml')) {
    const dir = mkdtempSync(join(tmpdir(), 'quickstep-readme-'));
    try {
      writeFileSync(join(dir, 'config.yml'), block.text);
      YAML_CHECKS[block.heading]!(env => loadConfig({ dir, env }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

readme('the Tracing example, as printed, exports a request span with its handler and session spans inside', async () => {
  const block = sources.find(b => b.heading === 'Tracing');
  assert.ok(block, 'the OpenTelemetry example under "Tracing"');
  const dir = project();
  try {
    writeFileSync(join(dir, 'tracing.ts'), block.text);
    // An app that imports the README's wiring first, as an app's entry point would, and makes one request.
    writeFileSync(join(dir, 'app.ts'), [
      "import './tracing.ts';",
      "import { createApp } from 'quickstep';",
      "const app = createApp({ log: 'none' });",
      "app.get('/visit', async ctx => String(await ctx.increment('visits')));",
      "const { url } = await app.listen(0, '127.0.0.1');",
      "const cookie = (await fetch(url + '/visit')).headers.get('set-cookie')!.split(';')[0]!;",
      "console.log('second visit:', await (await fetch(url + '/visit', { headers: { cookie } })).text());",
      'await app.close();',
    ].join('\n'));
    const ran = await run(process.execPath, ['--import', import.meta.resolve('tsx'), '--conditions=quickstep-source', 'app.ts'], dir);
    assert.ok(ran.code === 0, `exited with ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
    assert.match(ran.stdout, /second visit: 2/);
    // ConsoleSpanExporter prints each span as it ends: the second request's spans are the last four.
    const spans = [...ran.stdout.matchAll(/parentSpanContext: (undefined|\{[^}]*spanId: '(\w+)'[^}]*\}),\s+traceState: \w+,\s+name: '([\w.]+)',\s+id: '(\w+)'/g)]
      .map(([, , parent, name, id]) => ({ parent, name, id }));
    const last = spans.slice(-4);
    const request = last.find(span => span.name === 'quickstep.request');
    assert.ok(request && request.parent === undefined, `a root request span: ${JSON.stringify(spans)}`);
    const inside = last.filter(span => span.parent === request.id).map(span => span.name).sort();
    assert.equal(inside, ['quickstep.request.handler', 'quickstep.session.flush', 'quickstep.session.load']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

readme('the sh command lines run here run as printed', async () => {
  for (const command of shCommands) await RUN_HERE[command]?.();
});

readme(PROGRAMS['Ten lines']!, async () => {
  const example = blocks.find(block => block.heading === 'Ten lines')!.text;
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-readme-'));
  writeFileSync(join(dir, 'config.yml'), 'port: 0\nhost: 127.0.0.1\nlog: none\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', example], {
    cwd: ROOT, env: { ...process.env, DANCER_CONFDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${err}`)), 15_000);
      child.stdout.on('data', () => {
        const found = /http:\/\/\S+/.exec(out);
        if (found) (clearTimeout(timer), resolve(found[0]));
      });
      child.once('exit', () => reject(new Error(`exited:\n${err}`)));
    });
    // A browser-like client (cookie jar) on the example's own server; the child owns the server.
    const client = new TestClient(url, async () => {});
    assert.is((await client.get('/')).text, 'Hello, stranger');
    const tokenOf = async () => /name="_csrf" value="([^"]+)"/.exec((await client.get('/login')).text)![1]!;
    assert.is((await client.post('/login', { form: { user: 'mallory' } })).status, 403, 'a form without the token (another site\'s) is refused');
    const login = await client.post('/login', { form: { user: '<script>alert(1)</script>', _csrf: await tokenOf() } });
    assert.equal([login.status, login.headers.get('location')], [303, '/']);
    assert.is((await client.get('/')).text, 'Hello, &lt;script&gt;alert(1)&lt;/script&gt;');
    const token = await tokenOf();
    for (const bad of [{ form: { _csrf: token } }, { form: { user: '', _csrf: token } }, { body: '{"user":', headers: { 'content-type': 'application/json', 'x-csrf-token': token } }]) {
      const res = await client.post('/login', bad);
      assert.is(res.status, 400, JSON.stringify(bad));
    }
    assert.is((await client.post('/logout', { form: { _csrf: token } })).status, 303);
    assert.is((await client.get('/')).text, 'Hello, stranger');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

readme.run();
