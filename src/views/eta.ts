/**
 * The built-in template engine: Eta (`<%= it.name %>` escaped, `<%~ it.html %>` raw,
 * `<% code %>`, `<%~ include('partial', it) %>`). Tokens are `it`. Each file is compiled once to
 * a function and cached; in development the cache is off and errors carry the file and line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { Eta, EtaParseError } from 'eta';
import { matching, type OptionSpec, type Specs } from '../base/schema.ts';
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
  readonly #context: TemplateEngineContext;

  constructor(options: EtaOptions, context: TemplateEngineContext) {
    this.extension = options.extension;
    this.#context = context;
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
    try {
      return this.#eta.render(name, tokens);
    } catch (error) {
      const line = this.#context.development && error instanceof EtaParseError ? this.#syntaxErrorLine(name) : undefined;
      if (line === undefined) throw error;
      throw new EtaParseError(`line ${line}: ${(error as Error).message.split('\n').slice(0, 3).join(' ').trim()}`);
    }
  }

  /**
   * Eta reports JavaScript syntax errors inside tags ("Bad template syntax") without a line. In
   * development the compiled code marks each tag's line (`__eta.line=N`); V8 gives the compiled
   * line of the error, and the last mark before it is the template's line.
   */
  #syntaxErrorLine(name: string): number | undefined {
    let code: string;
    try {
      code = this.#eta.compileToString(readFileSync(join(this.#context.views, name), 'utf8'));
    } catch {
      return undefined; // a parse error of Eta's own, which already names its line
    }
    try {
      new Script(`(function (it, options) {\n${code}\n})`, { filename: 'template' });
      return undefined;
    } catch (error) {
      const at = /^template:(\d+)/.exec((error as Error).stack ?? '');
      if (!at) return undefined;
      const lines = `\n${code}`.split('\n').slice(0, Number(at[1]) - 1);
      for (let i = lines.length - 1; i >= 0; i--) {
        const mark = /^__eta\.line=(\d+)$/.exec(lines[i]!);
        if (mark) return Number(mark[1]);
      }
      return 1;
    }
  }
}

export const etaEngine: TemplateEngineDefinition<EtaOptions> = {
  options: specs,
  create: (options, context) => new EtaEngine(options, context),
};
