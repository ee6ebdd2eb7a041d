/**
 * `quickstep` stays the app author's API: fewer than 70 names, types and values together (a
 * merged interface + namespace such as `App` is one name, so is `export * as x`). Engine authors
 * have `quickstep/engine`. Counted from src/index.ts's export statements, checked against the
 * module's runtime exports so that no value escapes the count.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as quickstep from '../src/index.ts';
import type { App, Context, Session, Settings } from '../src/index.ts';
import * as engine from '../src/engine.ts';

const LIMIT = 70;
const root = join(import.meta.dirname, '..');

interface Exported {
  values: Set<string>;
  types: Set<string>;
}

/** The names an entry point's source exports, by kind: its top-level export statements, comments left out. */
function exportedNames(file: string): Exported {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const values = new Set<string>();
  const types = new Set<string>();
  const add = (name: string, isType: boolean) => (isType ? types : values).add(name);
  assert.not.match(text, /export\s+\*\s+from/, `${file}: \`export * from\` hides which names it adds; list them`);
  for (const [, typeOnly, list] of text.matchAll(/^export\s+(type\s+)?\{([^}]*)\}/gm)) {
    for (const item of list!.split(',').map(part => part.trim()).filter(Boolean)) {
      const isType = Boolean(typeOnly) || item.startsWith('type ');
      const name = item.replace(/^type\s+/, '').split(/\s+as\s+/).at(-1)!;
      add(name, isType);
    }
  }
  for (const [, name] of text.matchAll(/^export\s+\*\s+as\s+(\w+)/gm)) add(name!, false);
  for (const [, kind, name] of text.matchAll(/^export\s+(?:declare\s+)?(interface|type|namespace|const|let|function|class|enum)\s+(\w+)/gm)) {
    // A `declare namespace` of types only merges into the interface of the same name.
    add(name!, kind === 'interface' || kind === 'type' || kind === 'namespace');
  }
  return { values, types };
}

const surface = suite('quickstep :: the public names');

surface('the export statements name every value the module exports at run time', () => {
  for (const [file, module] of [['src/index.ts', quickstep], ['src/engine.ts', engine]] as const) {
    const { values } = exportedNames(file);
    assert.equal([...values].sort(), Object.keys(module).sort(), file);
  }
});

surface(`quickstep exports fewer than ${LIMIT} names, types and values together`, () => {
  const { values, types } = exportedNames('src/index.ts');
  const names = new Set([...values, ...types]);
  assert.ok(
    names.size < LIMIT,
    `quickstep exports ${names.size} names (${values.size} values, ${types.size} types); keep it under ${LIMIT}: ` +
      'an engine author name goes to src/engine.ts, a type an app seldom names becomes a member of App, Context, Session or Settings',
  );
});

surface('what an app author names is in quickstep; what an engine author names is in quickstep/engine, not in quickstep', () => {
  const app = exportedNames('src/index.ts');
  for (const name of ['createApp', 'loadConfig', 'escapeHtml', 'HttpError', 'ConfigError', 'SessionTooLargeError', 'session', 'dance']) {
    assert.ok(app.values.has(name), `quickstep exports ${name}`);
  }
  for (const name of ['App', 'Context', 'Session', 'SessionData', 'FlashData', 'Settings', 'SettingsInput']) assert.ok(app.types.has(name), `quickstep exports the type ${name}`);
  const forEngines = ['registerSessionEngine', 'registerTemplateEngine', 'applyChange', 'ownerOf', 'MemoryEngine', 'CookieEngine', 'optionSpecs', 'engineContract'];
  for (const name of forEngines) {
    assert.ok(name in engine, `quickstep/engine exports ${name}`);
    assert.not.ok(name in quickstep, `${name} is for engine authors: quickstep/engine, not quickstep`);
  }
});

surface('the types that left the top level are members of the type they belong to (checked by npm run typecheck)', () => {
  const handler: App.Handler<{ id: string }> = ctx => ctx.params.id;
  const hook: App.Hook = (ctx: Context) => ctx.vars('seen', true);
  const cookie: Context.CookieOptions = { httpOnly: true };
  const key: Session.Key = 'user';
  const level: Settings.LogLevel = 'warning';
  assert.equal([typeof handler, typeof hook, cookie.httpOnly, key, level], ['function', 'function', true, 'user', 'warning']);
});

surface.run();
