/**
 * The built-in template engine: Eta (`<%= it.name %>` escaped, `<%~ it.html %>` raw,
 * `<% code %>`, `<%~ include('partial', it) %>`). Tokens are `it`. Each file is compiled once to
 * a function and cached; in development the cache is off and errors carry the file and line.
 */
import { Eta } from 'eta';
import { matching, type OptionSpec, type Specs } from '../schema.ts';
import type { TemplateEngine, TemplateEngineContext, TemplateEngineDefinition } from './engine.ts';

/** `engines.template.Eta` in config.yml. */
export interface EtaOptions {
  /** The extension of template files, default `.eta`. */
  extension: string;
}

const specs: Specs<EtaOptions> = {
  extension: matching('.eta', /^\.[\w.-]+$/, 'a file extension starting with "." (".eta")') as OptionSpec<string>,
};

class EtaEngine implements TemplateEngine {
  readonly extension: string;
  readonly #eta: Eta;

  constructor(options: EtaOptions, context: TemplateEngineContext) {
    this.extension = options.extension;
    this.#eta = new Eta({
      views: context.views,
      defaultExtension: options.extension,
      autoEscape: true,
      cache: !context.development,
      cacheFilepaths: !context.development,
      // Line numbers in runtime errors cost a statement per tag: development only.
      debug: context.development,
    });
  }

  render(name: string, tokens: Record<string, unknown>): string {
    return this.#eta.render(name, tokens);
  }
}

export const etaEngine: TemplateEngineDefinition<EtaOptions> = {
  options: specs,
  create: (options, context) => new EtaEngine(options, context),
};
