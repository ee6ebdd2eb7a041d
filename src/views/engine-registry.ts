/**
 * Which template engine the `template:` name in config.yml means: one explicit map of the
 * engines that ship with Quickstep, plus those added by `registerTemplateEngine`. Nothing is
 * registered by importing a module (as for session engines, session/engine-registry.ts).
 */
import { ConfigError } from '../base/errors.ts';
import { readOptions } from '../base/schema.ts';
import type { TemplateEngineDefinition, TemplateSettings } from './engine.ts';
import { etaEngine } from './eta.ts';
import { NamedRegistry } from '../base/named-registry.ts';

/** The template engines that ship with Quickstep; `registerTemplateEngine` adds others. */
const engines = new NamedRegistry<TemplateEngineDefinition<any>>('template engine', { Eta: etaEngine });

/** Makes a template engine available under `name` in config.yml (`template: <name>`). */
export function registerTemplateEngine<Options extends object>(name: string, definition: TemplateEngineDefinition<Options>): void {
  engines.register(name, definition, 'registerTemplateEngine');
}

/** The engine known as `name`, matched without regard to case (`eta` = `Eta`). */
export function findTemplateEngine(name: string): { name: string; definition: TemplateEngineDefinition<any> } | undefined {
  return engines.find(name);
}

/** The names `template:` accepts: the built-in engines and the registered ones; `'built-in'`: only those that ship with Quickstep. */
export function templateEngineNames(which: 'all' | 'built-in' = 'all'): string[] {
  return engines.names(which);
}

/**
 * Checks `template:` and every `engines.template.<Name>` block (a typo in an unused block shows
 * up too) and returns the chosen engine with its options.
 */
export function readTemplateSettings(chosen: string, blocks: Record<string, unknown>, file: string): TemplateSettings {
  const found = findTemplateEngine(chosen);
  if (!found) {
    const names = engines.names().join(', ');
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
