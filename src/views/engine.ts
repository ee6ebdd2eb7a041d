/**
 * The template engine contract (docs/design.md#template-engines, `template()`): what an engine implements, and the
 * definition config.yml names it by (`template: Eta`, options under `engines.template.Eta`).
 *
 * The framework owns the views folder, the layout and the tokens; an engine only turns one
 * template file and its tokens into a string. It compiles each file once and keeps it, unless
 * told `development`, where an edited template must show on the next request.
 */
import type { Specs } from '../base/schema.ts';

/** What `create` is told besides the engine's own options. */
export interface TemplateEngineContext {
  /** The views folder, absolute. Every name given to `render` is inside it. */
  readonly views: string;
  /** True in the development environment: read and compile each template on every render. */
  readonly development: boolean;
}

/** A template engine built for one app. */
export interface TemplateEngine {
  /** The extension a template name without one gets, with its dot: `.eta`. */
  readonly extension: string;
  /**
   * Renders the template `name` (a path relative to the views folder, with its extension, always
   * `/`-separated) with `tokens`. Values are HTML-escaped unless the template asks for raw output.
   * A syntax or runtime error is thrown; its message should give the line in the file.
   */
  render(name: string, tokens: Record<string, unknown>): string | Promise<string>;
}

/** How config.yml builds an engine: its option specs (checked at start-up) and a constructor. */
export interface TemplateEngineDefinition<Options extends object = Record<string, unknown>> {
  readonly options: Specs<Options>;
  create(options: Options, context: TemplateEngineContext): TemplateEngine;
}

/** The engine chosen by `template:` and its checked options. */
export interface TemplateSettings {
  /** The engine's name as registered (`Eta`). */
  readonly name: string;
  readonly definition: TemplateEngineDefinition<any>;
  readonly options: object;
}
