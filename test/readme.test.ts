/**
 * The fenced blocks of README.md and of every guide and reference page (docs/guide/*.md,
 * docs/reference/*.md), every one of them, as
 * printed: a user copies them first. A block that no check below covers fails the first test, so
 * the documentation cannot drift from the code. Blocks are named by `<file> > <heading>`.
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
import { readdirSync } from 'node:fs';
import { appFiles } from '../src/cli/app-files.ts';
import { startupErrorLine } from '../src/process/startup.ts';
import { certificate } from './support/certificate.ts';

const ROOT = join(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const THIS_FILE = 'test/readme.test.ts';

/** The markdown files whose blocks run: the README, every guide page and every reference page. */
const FILES = ['README.md', ...['guide', 'reference'].flatMap(folder => readdirSync(join(ROOT, 'docs', folder)).filter(name => name.endsWith('.md')).sort().map(name => `docs/${folder}/${name}`))];

interface Block {
  lang: string;
  file: string;
  /** The nearest heading above the block, without its #s. */
  heading: string;
  /** `<file> > <heading>`: what the tables below are keyed by. */
  where: string;
  /** The file's line of the block's first line of code (1-based). */
  line: number;
  text: string;
}

function markdownBlocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    // Indented too (a block inside a list item), so that no block escapes the checks.
    const fence = /^( *)```(\S*)\s*$/.exec(lines[i]!);
    if (fence) {
      const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
      assert.ok(end > i, `${file} line ${i + 1}: a fence that never closes`);
      const text = lines.slice(i + 1, end).map(line => line.slice(fence[1]!.length)).join('\n');
      blocks.push({ lang: fence[2]!, file, heading, where: `${file} > ${heading}`, line: i + 2, text });
      i = end;
    } else if (/^#+ /.test(lines[i]!)) {
      heading = lines[i]!.replace(/^#+ /, '');
    }
  }
  return blocks;
}

const blocks = FILES.flatMap(markdownBlocks);
const sources = blocks.filter(block => block.lang === 'ts' || block.lang === 'js');

/** Free names the prose implies, declared before each ts/js block under that heading. */
const FREE_NAMES: Record<string, string> = {
  'docs/guide/routes-and-views.md > Views and files': "import { Readable } from 'node:stream';\ndeclare function rows(): Iterable<string>;",
  'docs/guide/sessions.md > The keywords': 'declare const page: string;',
  'docs/guide/sessions.md > Users and their devices': 'declare const user: { id: string };',
  'docs/guide/security.md > CSRF': 'declare const handler: () => string;',
  'docs/guide/sessions.md > Renewal, recent login, a cap per user': 'declare const user: { id: string };',
  // The validation example's schema library: any Standard Schema one would do.
  'docs/guide/routes-and-views.md > Routes and requests': "import { z } from 'zod';",
  // "new MyStore(...)": the reader's own class implementing SessionStore and IdChange (the block imports the types).
  'docs/guide/writing-an-engine.md > Writing a session engine': [
    "import { tmpdir } from 'node:os';",
    'interface MyStore extends SessionStore, IdChange {}',
    'declare class MyStore { constructor(path: string, sessionDuration: number) }',
  ].join('\n'),
  'docs/guide/deployment.md > HTTPS without a proxy': "import { readFileSync } from 'node:fs';",
  'docs/reference/hooks.md > The hooks': 'declare function report(error: unknown): void;\ndeclare function audit(event: string, ip: string | undefined): void;',
  'docs/reference/errors.md > Errors': 'declare function findUser(id: string): Promise<{ name: string } | undefined>;',
};

/** What each ```text block shows, by where: the text as the code prints or states it now. */
const OUTPUTS: Record<string, () => string> = {
  // The one line dance() prints for a bad config.yml (process/startup.ts).
  'docs/reference/config.md > Configuration': () => {
    const dir = mkdtempSync(join(tmpdir(), 'quickstep-readme-'));
    try {
      writeFileSync(join(dir, 'config.yml'), 'engines:\n  session:\n    Redis:\n      command_timeout: 0\n');
      assert.throws(() => loadConfig({ dir, env: {} }));
      try {
        loadConfig({ dir, env: {} });
      } catch (error) {
        return startupErrorLine(error)!;
      }
      return '';
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  // The steps as the pipeline's own header states them.
  'docs/reference/hooks.md > The steps of a request': () => {
    const header = readFileSync(join(ROOT, 'src', 'request', 'pipeline.ts'), 'utf8').split('\n');
    const start = header.findIndex(line => line.includes('public file ->'));
    const end = header.findIndex((line, i) => i > start && line.trim() === '*');
    return header.slice(start, end).map(line => line.replace(/^ \* {3}/, '')).join('\n');
  },
};

/** Whole programs (own imports, no free names), by where: the title of the test below that runs each. */
const PROGRAMS: Record<string, string> = {
  'README.md > Ten lines': 'the Ten lines run as printed: a login echoed escaped, a logout, bad input a 400',
  'docs/guide/testing.md > With node:test': 'the node:test example passes under node --test',
  'docs/guide/security.md > Checking it: the ASVS kit': 'the ASVS kit example passes under node --test over HTTPS, every applicable row',
};

/** Blocks that are a file `quickstep new` writes, by where (every block under that heading in that language). */
const SAME_AS: Record<string, Record<string, string>> = {
  'docs/guide/first-app.md > The login': { ts: 'routes.ts', html: 'views/login.eta' },
};

/** Blocks no test here can run, by where: the reason. */
const NOT_RUN: Record<string, string> = {
  'docs/guide/deployment.md > Behind a proxy': 'an nginx location block: the headers it sets are what test/request tests send as a trusted proxy',
  'docs/guide/deployment.md > A systemd unit': 'a systemd unit: the test machine runs no systemd',
  'docs/guide/deployment.md > A container': 'a Dockerfile: the test machine builds no images',
};

const isProgram = (block: Block) => /^import .* from 'quickstep/m.test(block.text) && !(block.where in FREE_NAMES) && !(block.where in SAME_AS);

/** sh command lines this file runs itself, by `<where>: <command>` (its comment left out). */
const RUN_HERE: Record<string, () => Promise<void>> = {
  // The whole suite is what runs this file: here the runner on one small file, for its last line.
  'README.md > Quickstep: npm test': async () => {
    const ran = await run('npm', ['test', '--', 'test/architecture.test.ts'], ROOT);
    const last = ran.stdout.trim().split('\n').at(-1);
    assert.ok(ran.code === 0, `npm test exited with ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
    assert.match(last ?? '', /^[1-9]\d* passed, 0 failed$/);
  },
};

/** sh command lines another test file runs, by `<where>: <command>`. */
const COVERED_BY: Record<string, string> = {
  'README.md > Quickstep: npm install && npm start': 'test/example-app/start.test.ts',
  'README.md > Install: npm install quickstep': 'test/package/package.test.ts',
  ...Object.fromEntries(['README.md > A new app', 'docs/guide/first-app.md > Make it'].flatMap(where => [
    [`${where}: npx quickstep new my-app`, 'test/package/package.test.ts'],
    [`${where}: cd my-app && npm install && npm start`, 'test/package/package.test.ts'],
    [`${where}: npm test`, 'test/package/package.test.ts'],
  ])),
  'README.md > A new app: npm run typecheck': 'test/package/package.test.ts',
  // The scaffolded app run as printed, and the key formula's line, against a real redis-server.
  'docs/guide/redis.md > Running on Redis: SESSION_ENGINE=Redis REDIS_URL=redis://127.0.0.1:6379 npm start': 'test/package/package.test.ts',
  [`docs/guide/redis.md > Running on Redis: redis-cli -u redis://127.0.0.1:6379 GET "dancer.session:$(node -p "require('node:crypto').createHash('sha256').update(process.argv[1]).digest('base64url')" -- "$ID")"`]: 'test/package/package.test.ts',
  // The ACL rule is redisAclRule's (checked there), and the engine contract runs under it.
  'docs/guide/redis.md > Least privilege: redis-cli ACL SETUSER quickstep on \'>a-long-password\' resetkeys ~dancer.session:* resetchannels -@all +client|setname +info +select +quit +evalsha +eval +scan +get +mget +set +del +zrange +zrem +wait +expire +hmget +hset +renamenx +time +type +zadd +zcard +zscore': 'test/session/engines/redis/acl.test.ts',
};

/** What each ```yaml block promises, by where: the environment it names, and a check of the settings. */
const YAML_CHECKS: Record<string, (load: (env: Record<string, string>) => Settings) => void> = {
  'README.md > config.yml': load => {
    const plain = load({});
    assert.equal([plain.port, plain.session.engineName], [3000, 'Memory']);
    const redis = load({ PORT: '4000', SESSION_ENGINE: 'Redis', REDIS_URL: 'redis://10.0.0.5:6380' });
    assert.equal([redis.port, redis.session.engineName], [4000, 'Redis']);
    assert.is(redis.session.engineOptions.url, 'redis://10.0.0.5:6380');
    for (const { session } of [plain, redis]) assert.equal([session.policy.session_duration, session.policy.hash_ids], [3600, true]);
  },
  // The tls block's files are read at start-up: where they are missing (here), a ConfigError says which.
  'docs/guide/redis.md > TLS': load => {
    assert.throws(() => load({ REDIS_PASSWORD: 'x' }), (error: unknown) => error instanceof ConfigError && /engines\.session\.Redis\.tls\.ca: expected a readable PEM file .*ENOENT/.test(error.message));
  },
  'docs/guide/cookie-engine.md > Running on the Cookie engine': load => {
    assert.is(load({ SESSION_SECRET: 'x'.repeat(32) }).session.engineName, 'Cookie');
    // "at least 32 bytes; the process will not start without it"
    for (const env of [{}, { SESSION_SECRET: 'x'.repeat(31) }]) {
      assert.throws(() => load(env), (error: unknown) => error instanceof ConfigError && /secret_key/.test(error.message), JSON.stringify(env));
    }
  },
  'docs/guide/deployment.md > The production environment': load => {
    const settings = load({});
    assert.equal([settings.host, settings.port, settings.trust_proxy, settings.workers, settings.session.engineName], ['0.0.0.0', 3000, false, 1, 'Redis']);
    assert.equal([settings.session.policy.session_duration, settings.session.policy.absolute_duration, settings.session.policy.hash_ids], [3600, 43200, true]);
    const proxied = load({ TRUST_PROXY: 'true', WORKERS: '4', REDIS_URL: 'rediss://cache.internal:6380' });
    assert.equal([proxied.trust_proxy, proxied.workers, proxied.session.engineOptions.url], [true, 4, 'rediss://cache.internal:6380']);
  },
  'docs/guide/redis.md > Sentinel and Cluster': load => {
    // Two blocks under one heading: each is checked for what it is.
    const { engineOptions: options } = load({}).session;
    if (options.sentinels !== undefined) {
      assert.equal([options.sentinels, options.name, options.wait_replicas], [['10.0.0.1:26379', '10.0.0.2:26379', '10.0.0.3:26379'], 'mymaster', 1]);
    } else {
      assert.equal([options.cluster, options.database, options.wait_replicas], [['10.0.0.1:7000', '10.0.0.2:7000', '10.0.0.3:7000'], undefined, undefined]);
    }
  },
  'docs/guide/from-dancer2.md > Coming from Dancer2': load => {
    const { session } = load({});
    assert.equal([session.engineName, session.engineOptions.server, session.policy.session_duration, session.policy.cookie_name, session.policy.is_http_only], ['Redis', '127.0.0.1:6379', 7200, 'dancer.session', true]);
  },
  'docs/guide/sessions.md > Abuse limits': load => {
    const { policy } = load({}).session;
    assert.equal([policy.unknown_id_limit, policy.unknown_id_block, policy.new_session_limit], [100, true, 30]);
  },
};

const shCommands = blocks
  .filter(block => block.lang === 'sh')
  .flatMap(block => block.text.replace(/\\\n/g, ' ').split('\n').map(line => line.replace(/\s+#.*$/, '').trim()).filter(Boolean).map(line => `${block.where}: ${line}`));

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

const readme = suite('README and docs');

readme('every fenced block is covered: a new one fails here until a check covers it', () => {
  const known = ['ts', 'js', 'yaml', 'sh', 'text'];
  const problems: string[] = [];
  for (const block of blocks) {
    const where = `${block.file} line ${block.line} (under "${block.heading}")`;
    const sameAs = SAME_AS[block.where]?.[block.lang];
    if (!known.includes(block.lang) && !(block.where in NOT_RUN) && sameAs === undefined) {
      problems.push(`${where}: a \`\`\`${block.lang} block; make it one of ${known.join(', ')}, or say in NOT_RUN why it cannot run, or teach ${THIS_FILE} to check it`);
    }
    if (block.lang === 'yaml' && !(block.where in YAML_CHECKS)) problems.push(`${where}: add what this YAML promises to YAML_CHECKS`);
    if (block.lang === 'text' && !(block.where in OUTPUTS)) problems.push(`${where}: add what prints or states this text to OUTPUTS`);
    if (sources.includes(block) && isProgram(block) && !(block.where in PROGRAMS)) {
      problems.push(`${where}: a whole program; run it in a test of ${THIS_FILE} and name that test in PROGRAMS (or its free names in FREE_NAMES)`);
    }
  }
  for (const command of shCommands.filter(command => !(command in RUN_HERE) && !(command in COVERED_BY))) {
    problems.push(`${command.split(' > ')[0]} runs \`${command}\`: cover it, here (RUN_HERE) or by a test file (COVERED_BY)`);
  }
  for (const file of Object.values(COVERED_BY).filter(file => !existsSync(join(ROOT, file)))) problems.push(`COVERED_BY names ${file}, which does not exist`);
  // The tables name only what the files still have, so that they cannot drift either.
  const stale = [
    ...[...Object.keys(RUN_HERE), ...Object.keys(COVERED_BY)].filter(command => !shCommands.includes(command)),
    ...[...Object.keys(FREE_NAMES), ...Object.keys(PROGRAMS)].filter(where => !sources.some(block => block.where === where)),
    ...Object.keys(YAML_CHECKS).filter(where => !blocks.some(block => block.lang === 'yaml' && block.where === where)),
    ...[...Object.keys(NOT_RUN), ...Object.keys(SAME_AS)].filter(where => !blocks.some(block => block.where === where)),
    ...Object.keys(OUTPUTS).filter(where => !blocks.some(block => block.lang === 'text' && block.where === where)),
  ];
  for (const key of stale) problems.push(`${THIS_FILE} has an entry for "${key}", which the documentation no longer has`);
  assert.ok(problems.length === 0, problems.join('\n'));
});

readme('every text block is what the code prints or states now', () => {
  for (const block of blocks.filter(b => b.lang === 'text')) {
    assert.is(block.text, OUTPUTS[block.where]!(), `${block.file} line ${block.line}`);
  }
});

readme('a block that is a file quickstep new writes is that file, as it writes it', () => {
  const files = appFiles('my-app', '0.1.0');
  let compared = 0;
  for (const block of blocks) {
    const path = SAME_AS[block.where]?.[block.lang];
    if (path === undefined) continue;
    assert.is(block.text, files[path]!.replace(/\n$/, ''), `${block.file} line ${block.line} is not the ${path} quickstep new writes`);
    compared++;
  }
  assert.is(compared, Object.values(SAME_AS).reduce((n, langs) => n + Object.keys(langs).length, 0));
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
  /** Lines added before the block's first line: tsc's line L is the markdown file's block.line + L - 1 - added. */
  added: number;
  block: Block;
}

/** The block as a file of the program: the changes listed at the top of this file, no others. */
function program(block: Block, index: number): File {
  const text = block.text.replace(/^(\s*)\.\.\.$/gm, '$1// ...');
  const fragment = !/^import /m.test(text);
  const before = fragment ? [`import { ${Object.keys(quickstep).join(', ')} } from 'quickstep';`] : [];
  before.push(...(FREE_NAMES[block.where]?.split('\n') ?? []));
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
    // tsc's file(line,col) as the markdown file's line, so the message points at what to fix.
    const output = (checked.stdout + checked.stderr).replace(/^(block-\S+)\((\d+),(\d+)\)/gm, (whole, name: string, line: string, col: string) => {
      const file = files.find(f => f.name === name);
      const at = file ? file.block.line + Number(line) - 1 - file.added : NaN;
      return file && Number(line) > file.added ? `${file.block.file}:${at}:${col} (${name})` : whole;
    });
    assert.ok(checked.code === 0 && output.trim() === '', `tsc on the documentation's blocks:\n${output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

readme(PROGRAMS['docs/guide/testing.md > With node:test']!, async () => {
  const block = sources.find(b => b.where === 'docs/guide/testing.md > With node:test');
  assert.ok(block, 'the node:test example of the testing guide');
  const dir = project();
  try {
    writeFileSync(join(dir, 'session.test.mjs'), block.text);
    // tsx for quickstep's own .ts sources (a Node 22 before 22.18 does not strip types); the file is the guide's.
    const args = ['--import', import.meta.resolve('tsx'), '--conditions=quickstep-source', '--test', '--test-reporter=tap', 'session.test.mjs'];
    const tested = await run(process.execPath, args, dir);
    assert.ok(tested.code === 0, `node --test exited with ${tested.code}\n${tested.stdout}\n${tested.stderr}`);
    assert.match(tested.stdout, /^# pass 1$/m);
    assert.match(tested.stdout, /^# fail 0$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

readme(PROGRAMS['docs/guide/security.md > Checking it: the ASVS kit']!, async () => {
  const block = sources.find(b => b.where === 'docs/guide/security.md > Checking it: the ASVS kit');
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
      YAML_CHECKS[block.where]!(env => loadConfig({ dir, env }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

readme('the Tracing example, as printed, exports a request span with its handler and session spans inside', async () => {
  const block = sources.find(b => b.where === 'docs/guide/tracing.md > Wiring OpenTelemetry');
  assert.ok(block, 'the OpenTelemetry example of the tracing guide');
  const dir = project();
  try {
    writeFileSync(join(dir, 'tracing.ts'), block.text);
    // An app that imports the guide's wiring first, as an app's entry point would, and makes one request.
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
    // Without terminal colours, which the runner may force on (uvu run directly does).
    const spans = [...ran.stdout.replace(/\x1b\[[0-9;]*m/g, '').matchAll(/parentSpanContext: (undefined|\{[^}]*spanId: '(\w+)'[^}]*\}),\s+traceState: \w+,\s+name: '([\w.]+)',\s+id: '(\w+)'/g)]
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

readme(PROGRAMS['README.md > Ten lines']!, async () => {
  const example = blocks.find(block => block.where === 'README.md > Ten lines')!.text;
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
