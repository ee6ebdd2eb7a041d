/**
 * Which template engine the `template:` name in config.yml means: one explicit map of the
 * engines that ship with Quickstep, plus those added by `registerTemplateEngine`. Nothing is
 * registered by importing a module (as for session engines, session/engine-registry.ts).
 */
import { ConfigError } from '../errors.ts';
import { readOptions } from '../schema.ts';
import type { TemplateEngineDefinition, TemplateSettings } from './engine.ts';
import { etaEngine } from './eta.ts';

const BUILT_IN: Readonly<Record<string, TemplateEngineDefinition<any>>> = {
  Eta: etaEngine,
};

const added = new Map<string, TemplateEngineDefinition<any>>();

/**
 * Makes a template engine available under `name` in config.yml (`template: <name>`). A built-in
 * name cannot be taken over: that would change what an existing config means without saying so.
 */
export function registerTemplateEngine<Options extends object>(name: string, definition: TemplateEngineDefinition<Options>): void {
  const clash = findTemplateEngine(name);
  if (clash && Object.hasOwn(BUILT_IN, clash.name)) {
    throw new TypeError(`registerTemplateEngine("${name}"): ${clash.name} is a built-in template engine; register yours under another name`);
  }
  if (clash) added.delete(clash.name);
  added.set(name, definition);
}

/** The engine known as `name`, matched without regard to case (`eta` = `Eta`). */
export function findTemplateEngine(name: string): { name: string; definition: TemplateEngineDefinition<any> } | undefined {
  const wanted = name.toLowerCase();
  for (const [known, definition] of [...Object.entries(BUILT_IN), ...added]) {
    if (known.toLowerCase() === wanted) return { name: known, definition };
  }
  return undefined;
}

/**
 * Checks `template:` and every `engines.template.<Name>` block (a typo in an unused block shows
 * up too) and returns the chosen engine with its options.
 */
export function readTemplateSettings(chosen: string, blocks: Record<string, unknown>, file: string): TemplateSettings {
  const found = findTemplateEngine(chosen);
  if (!found) {
    const names = [...Object.keys(BUILT_IN), ...added.keys()].join(', ');
    throw new ConfigError(file, 'template', `a known template engine (one of: ${names}; add others with registerTemplateEngine)`, chosen);
  }
  let options: object | undefined;
  for (const [name, block] of Object.entries(blocks)) {
    const path = `engines.template.${name}`;
    const engine = findTemplateEngine(name);
    if (!engine) throw new ConfigError(file, path, 'a block named after a known template engine', name);
    const read = readOptions(engine.definition.options, block, { file, path }) as object;
    if (engine.name === found.name) options = read;
  }
  options ??= readOptions(found.definition.options, undefined, { file, path: `engines.template.${found.name}` }) as object;
  return { name: found.name, definition: found.definition, options };
}
