/**
 * docs/reference/ against the code, so that the reference cannot drift again: every export of
 * every entry point package.json exports (values read from the modules at run time, type-only
 * names from their `export` statements, which no run time has), every `ctx` and `App` member (read from a real
 * request's ctx and the classes' prototypes), the test client's and the audit's options, every
 * hook and tracing channel, every error class, and every config key with what a bad value of it says (read from the
 * option specs the config loader itself uses, engines included).
 *
 * A name counts as documented when it appears as a word inside a `code span` of its page (or of
 * the page's section, where one is named), as a user searching the page for it would find it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as errors from '../../src/base/errors.ts';
import { channels } from '../../src/base/tracing.ts';
import { topLevelSettingSpecs } from '../../src/config/config.ts';
import { createApp } from '../../src/create-app.ts';
import { Context } from '../../src/request/context.ts';
import { HOOK_NAMES } from '../../src/request/hooks.ts';
import { RequestData } from '../../src/request/request-data.ts';
import { App } from '../../src/server/app.ts';
import { findSessionEngine, sessionEngineNames } from '../../src/session/engine-registry.ts';
import { sessionPolicySpecs } from '../../src/session/settings.ts';
import { TestClient, testClient } from '../../src/testing/client.ts';
import { findTemplateEngine, templateEngineNames } from '../../src/views/engine-registry.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const page = (name: string) => readFileSync(join(ROOT, 'docs', 'reference', name), 'utf8');

/** The text of the `## ` section whose heading contains `title` (up to the next `## `). */
function section(text: string, title: string): string {
  const start = text.split('\n').findIndex(line => line.startsWith('## ') && line.includes(title));
  assert.ok(start >= 0, `a "## ...${title}..." section`);
  const lines = text.split('\n').slice(start);
  const end = lines.findIndex((line, i) => i > 0 && line.startsWith('## '));
  return lines.slice(0, end < 0 ? undefined : end).join('\n');
}

/** Every `code span` of a markdown text (a span may wrap onto the next line, or be ``double``; fenced blocks count as one span each). */
const codeSpans = (text: string) => [...text.matchAll(/```[\s\S]*?```|``([\s\S]+?)``|`([^`]+)`/g)].map(match => match[1] ?? match[2] ?? match[0]);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The names of `names` that appear in no code span of `text` as a word (`prefix` before it, if given). */
function missing(names: Iterable<string>, text: string, prefix = ''): string[] {
  const spans = codeSpans(text);
  return [...new Set(names)].filter(name => {
    const word = new RegExp(`(?<![\\w$])${escape(prefix + name)}(?![\\w$])`);
    return !spans.some(span => word.test(span));
  });
}

/**
 * The names an entry point exports: its values at run time, and the type-only names of its
 * `export` statements (`export type { A, B as C }`, `export { type D }`, `export interface E`,
 * `export declare namespace F`, with F's members as `F.Member`).
 */
async function exportsOf(file: string): Promise<string[]> {
  const values = Object.keys(await import(join(ROOT, 'src', file)));
  const source = readFileSync(join(ROOT, 'src', file), 'utf8');
  const types: string[] = [];
  for (const [, list] of source.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
    for (const item of list!.split(',').map(part => part.trim()).filter(Boolean)) types.push(item.replace(/^type /, '').split(/\s+as\s+/).at(-1)!);
  }
  for (const [, name] of source.matchAll(/^export (?:interface|type|class|function|const) (\w+)/gm)) types.push(name!);
  for (const [, name] of source.matchAll(/^export \* as (\w+)/gm)) types.push(name!);
  for (const [, name, body] of source.matchAll(/^export declare namespace (\w+) \{([\s\S]*?)^\}/gm)) {
    for (const [, member] of body!.matchAll(/export type (\w+)/g)) types.push(`${name}.${member}`);
  }
  return [...new Set([...values, ...types])];
}

/** The field names of `interface <name> {...}` in a source file (one field per line, as the sources write them). */
function interfaceFields(file: string, name: string): string[] {
  const source = readFileSync(join(ROOT, 'src', file), 'utf8');
  const body = new RegExp(`^export interface ${name}\\b[^{]*\\{([\\s\\S]*?)^\\}`, 'm').exec(source);
  assert.ok(body, `interface ${name} in src/${file}`);
  return [...body[1]!.matchAll(/^ {2}(?:readonly )?(\w+)\??[(:<]/gm)].map(match => match[1]!);
}

const test = suite('docs/reference: every export, member and setting is documented');

/** The reference page of each entry point; one that package.json exports without a page here fails below. */
const PAGES: Record<string, string> = {
  quickstep: 'keywords.md',
  'quickstep/engine': 'engine-contract.md',
  'quickstep/engine-contract': 'engine-contract.md',
  'quickstep/testing': 'testing.md',
  'quickstep/asvs': 'asvs.md',
};

/** The entry points as package.json exports them: name and source file (its `quickstep-source` condition). */
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
const ENTRY_POINTS = Object.entries(manifest.exports)
  .filter(([, target]) => typeof target === 'object')
  .map(([path, target]) => ({ entry: path === '.' ? 'quickstep' : `quickstep/${path.slice(2)}`, file: (target as Record<string, string>)['quickstep-source']!.replace(/^\.\/src\//, '') }));

test('every entry point package.json exports has its reference page', () => {
  assert.ok(ENTRY_POINTS.length >= 4, 'read the exports');
  const without = ENTRY_POINTS.filter(({ entry }) => !(entry in PAGES)).map(({ entry }) => entry);
  assert.equal(without, [], `no reference page for ${without.join(', ')}: add one to docs/reference/ and to PAGES`);
});

for (const { entry, file } of ENTRY_POINTS) {
  const name = PAGES[entry] ?? 'keywords.md';
  test(`every export of ${entry} (src/${file}) is in docs/reference/${name}`, async () => {
    const names = await exportsOf(file);
    assert.ok(names.length >= 2, `read the exports of src/${file}`);
    const absent = missing(names, page(name));
    assert.equal(absent, [], `docs/reference/${name} lacks ${absent.join(', ')}`);
  });
}

test('every ctx member (a real request\'s own fields and the prototypes\' members) is in keywords.md as ctx.<name>', async () => {
  const app = createApp({ log: 'none' });
  app.get('/', ctx => Object.keys(ctx));
  const client = await testClient(app);
  let fields: string[];
  try {
    fields = (await client.get('/')).json<string[]>();
  } finally {
    await client.close();
  }
  const members = [Context.prototype, RequestData.prototype].flatMap(proto => Object.getOwnPropertyNames(proto)).filter(name => name !== 'constructor');
  assert.ok(fields.includes('path') && fields.includes('method') && members.includes('session'), 'read the members');
  const absent = missing([...fields, ...members], page('keywords.md'), 'ctx.');
  assert.equal(absent, [], `keywords.md lacks ${absent.map(name => `ctx.${name}`).join(', ')}`);
});

test('every App member, and listen()\'s options, is in keywords.md\'s App section', () => {
  const app = createApp({ log: 'none' });
  const members = [...Object.keys(app), ...Object.getOwnPropertyNames(App.prototype).filter(name => name !== 'constructor')];
  const text = section(page('keywords.md'), '`App`');
  const absent = missing([...members, ...interfaceFields('server/app.ts', 'ListenOptions'), ...interfaceFields('server/app.ts', 'Listening')], text);
  assert.equal(absent, [], `keywords.md's App section lacks ${absent.join(', ')}`);
});

test('the test client: its members, its request options and its response are in testing.md', () => {
  const client = new TestClient('http://127.0.0.1:1', async () => {});
  const members = [...Object.keys(client), ...Object.getOwnPropertyNames(TestClient.prototype).filter(name => name !== 'constructor')];
  const fields = [...interfaceFields('testing/client.ts', 'RequestOptions'), ...interfaceFields('testing/client.ts', 'TestResponse')];
  assert.ok(fields.includes('form') && fields.includes('setCookie'), 'read the options');
  const absent = missing([...members, ...fields], page('testing.md'));
  assert.equal(absent, [], `testing.md lacks ${absent.join(', ')}`);
});

test('the audit\'s options (AuditOptions, FlowStep, CsrfSource, AuditTls, AuditResult) are in asvs.md', () => {
  const fields = [
    ...['AuditOptions', 'FlowStep', 'CsrfSource'].flatMap(name => interfaceFields('asvs/flow.ts', name)),
    ...interfaceFields('asvs/agent.ts', 'AuditTls'),
    ...interfaceFields('asvs/checks.ts', 'AuditResult'),
  ];
  assert.ok(fields.includes('loggedIn') && fields.includes('rejectUnauthorized'), 'read the options');
  const absent = missing(fields, page('asvs.md'));
  assert.equal(absent, [], `asvs.md lacks ${absent.join(', ')}`);
});

test('the signal table in hooks.md is the one at the top of pipeline.ts, row for row', () => {
  const rows = (text: string) => text.split('\n').map(line => line.replace(/^ \* /, '')).filter(line => /^\| .* \|$/.test(line) && !/^\|[-| ]+\|$/.test(line))
    .map(line => line.split('|').slice(1, -1).map(cell => cell.trim()).join(' | '));
  const pipeline = rows(readFileSync(join(ROOT, 'src', 'request', 'pipeline.ts'), 'utf8'));
  assert.ok(pipeline.length >= 8 && pipeline[0]!.startsWith('thrown'), 'read the table');
  assert.equal(rows(section(page('hooks.md'), 'Signals')), pipeline);
});

test('every hook name (and alias) is in hooks.md', () => {
  const absent = missing([...HOOK_NAMES, 'before_request', 'after_request'], page('hooks.md'));
  assert.equal(absent, [], `hooks.md lacks ${absent.join(', ')}`);
});

test('every tracing channel is in hooks.md\'s Tracing channels section', () => {
  const names = Object.values(channels).map(channel => String(channel.start.name).replace(/^tracing:|:start$/g, ''));
  assert.ok(names.includes('quickstep.request'), 'read the channels');
  const absent = missing(names, section(page('hooks.md'), 'Tracing channels'));
  assert.equal(absent, [], `hooks.md lacks ${absent.join(', ')}`);
});

test('every error class is in errors.md', () => {
  const classes = Object.entries(errors).filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error).map(([name]) => name);
  assert.ok(classes.includes('HttpError') && classes.includes('SessionStoreError'), 'read the classes');
  const absent = missing([...classes, 'TemplateError', 'FlowError'], page('errors.md'));
  assert.equal(absent, [], `errors.md lacks ${absent.join(', ')}`);
});

/**
 * The config keys of `specs` each have a row in `text` (`| \`key\` | ...`), and the row says what
 * a bad value of it is told: the spec's `expected`, the text after "expected" in its ConfigError.
 */
function undocumentedKeys(specs: Readonly<Record<string, { expected: string }>>, text: string): string[] {
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    const row = text.split('\n').find(line => line.startsWith(`| \`${key}\` |`));
    if (row === undefined) problems.push(`${key}: no row`);
    else if (!row.includes(spec.expected)) problems.push(`${key}: its row does not say what a bad value is told (expected ${spec.expected})`);
  }
  return problems;
}

test('every top-level config key is in config.md with what a bad value says', () => {
  assert.ok(Object.keys(topLevelSettingSpecs).length >= 19, 'read the specs');
  const problems = undocumentedKeys(topLevelSettingSpecs, section(page('config.md'), 'Top level'));
  assert.equal(problems, [], problems.join('\n'));
});

test('every session setting every engine takes is in config.md with what a bad value says', () => {
  const problems = undocumentedKeys(sessionPolicySpecs, section(page('config.md'), '`engines.session.<Engine>`'));
  assert.equal(problems, [], problems.join('\n'));
});

// The engines that ship with Quickstep: other test files of the same run register their own.
test('every built-in session engine\'s own keys are in its config.md section, with what a bad value says', () => {
  const names = sessionEngineNames('built-in');
  assert.ok(names.includes('Redis') && names.includes('Cookie'), 'read the engines');
  for (const name of names) {
    const problems = undocumentedKeys(findSessionEngine(name)!.definition.options, section(page('config.md'), `\`engines.session.${name}\``));
    assert.equal(problems, [], `engines.session.${name}:\n${problems.join('\n')}`);
  }
});

test('every built-in template engine\'s keys are in its config.md section, with what a bad value says', () => {
  for (const name of templateEngineNames('built-in')) {
    const problems = undocumentedKeys(findTemplateEngine(name)!.definition.options, section(page('config.md'), `\`engines.template.${name}\``));
    assert.equal(problems, [], `engines.template.${name}:\n${problems.join('\n')}`);
  }
});

test('the check fails for what is missing: an undocumented name and a row without its message are reported', () => {
  assert.equal(missing(['session', 'sessionX', 'vars'], '`session(key)` and `ctx.vars()`'), ['sessionX']);
  assert.equal(missing(['vars', 'path'], 'use `ctx.vars()`; path is plain text', 'ctx.'), ['path']);
  const specs = { port: { expected: 'an integer from 0 to 65535' }, host: { expected: 'a string' } };
  assert.equal(undocumentedKeys(specs, '| `port` | 3000 | an integer |'), ['port: its row does not say what a bad value is told (expected an integer from 0 to 65535)', 'host: no row']);
});

test.run();
