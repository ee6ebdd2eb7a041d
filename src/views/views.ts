/**
 * `template(name, tokens?, options?)` for one app: finds `views/<name>` (the engine's extension
 * added when the name has none), renders it with the tokens Dancer2 gives templates, then puts
 * the result inside the layout (`views/layouts/<layout>`) as `content`.
 *
 * Tokens, under the user's own (which win on a clash): `request` (the Context), `params`
 * (route params over the query string), `vars` (the request's stash, `ctx.vars()`), `settings`
 * (as `setting()` shows them: secrets hidden), and `session` (the session's data, or undefined:
 * only a request that has a session cookie reads the store, and none is created).
 *
 * Outside development a template's file is looked up once and the engine keeps the compiled
 * function; in development both are redone on every render, so an edit shows on the next request.
 */
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { TemplateEngine } from './engine.ts';

/** The third argument of `template()`. */
export interface TemplateOptions {
  /** A layout under `views/layouts/` for this render, or false for none (default: the `layout` setting). */
  layout?: string | false;
}

/**
 * What a render reads of the request: the Context (request/context.ts) is one. The tokens are
 * taken from these; the whole object is the `request` token.
 */
export interface TemplateRequest {
  /** The settings as `config()` shows them: secrets hidden (config/secret-settings.ts). */
  config(): Readonly<object>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly params: object;
  /** Every parameter merged; throws the error of a body that could not be read. */
  parameters(): Record<string, unknown>;
  vars(): Record<string, unknown>;
  /** The session if the request has one, without creating one. */
  findSession(): Promise<{ toJSON(): unknown } | undefined>;
}

/** A template that could not be found or rendered; its message names the file (and line, when known). */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** The layout used when the `layout` setting is absent, if its file exists. */
const DEFAULT_LAYOUT = 'main';

export class Views {
  readonly #dir: string;
  readonly #engine: TemplateEngine;
  readonly #layout: string | false | undefined;
  readonly #development: boolean;
  /** Template name -> its file relative to the views folder (or null: none), outside development. */
  readonly #files = new Map<string, string | null>();

  /** `layout` is the setting: a name, false for none, undefined for `main` when it exists. */
  constructor(dir: string, engine: TemplateEngine, layout: string | false | undefined, development: boolean) {
    this.#dir = dir;
    this.#engine = engine;
    this.#layout = layout;
    this.#development = development;
  }

  /** Renders `name` with `tokens` for the request `ctx`, inside the layout unless told otherwise. */
  async render(ctx: TemplateRequest, name: string, tokens: Record<string, unknown> = {}, options: TemplateOptions = {}): Promise<string> {
    const file = this.#find(name);
    if (file === null) throw new TemplateError(`template("${name}"): there is no ${join(this.#dir, this.#withExtension(name))}`);
    const session = await ctx.findSession();
    const all: Record<string, unknown> = {
      request: ctx,
      params: templateParams(ctx),
      vars: ctx.vars(),
      // As setting() shows them: a page that dumps its settings must not print a secret.
      settings: ctx.config(),
      session: session?.toJSON(),
      ...tokens,
    };
    const content = await this.#renderFile(file, all);
    const layout = this.#layoutFile(options.layout);
    if (layout === undefined) return content;
    return this.#renderFile(layout, { ...all, content });
  }

  async #renderFile(file: string, tokens: Record<string, unknown>): Promise<string> {
    try {
      return await this.#engine.render(file, tokens);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TemplateError(`template error in ${join(this.#dir, file)}: ${reason}`, { cause: error });
    }
  }

  /** The layout's file for this render, or undefined for none. A layout named but missing is an error. */
  #layoutFile(given: string | false | undefined): string | undefined {
    const layout = given ?? this.#layout;
    if (layout === false) return undefined;
    const file = this.#find(`layouts/${layout ?? DEFAULT_LAYOUT}`);
    if (file !== null) return file;
    if (layout === undefined) return undefined;
    throw new TemplateError(`layout "${layout}": there is no ${join(this.#dir, 'layouts', this.#withExtension(layout))} (set layout: false for none)`);
  }

  /** The file of template `name` relative to the views folder, or null when it does not exist. */
  #find(name: string): string | null {
    const known = this.#development ? undefined : this.#files.get(name);
    if (known !== undefined) return known;
    // Names come from code, but may be built from input: never a file outside the views folder.
    if (name.includes('\0') || isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
      throw new TemplateError(`template("${name}"): a template name is a path inside the views folder, without ".."`);
    }
    const file = this.#withExtension(name).replaceAll('\\', '/');
    const found = statSync(join(this.#dir, file), { throwIfNoEntry: false })?.isFile() ? file : null;
    if (!this.#development) this.#files.set(name, found);
    return found;
  }

  #withExtension(name: string): string {
    const base = name.slice(name.lastIndexOf('/') + 1);
    return base.includes('.') ? name : name + this.#engine.extension;
  }
}

/**
 * The `params` token: every parameter merged (Dancer2's `params`). A body that did not parse
 * leaves the body's out instead of failing the page: the route may be rendering the error page
 * for exactly that body.
 */
function templateParams(ctx: TemplateRequest): Record<string, unknown> {
  try {
    return ctx.parameters();
  } catch {
    return Object.assign(Object.create(null), ctx.query, ctx.params);
  }
}
