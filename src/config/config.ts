/**
 * Settings, from config.yml (with environments/<env>.yml over it) or from an object given to
 * createApp(), checked once at start-up into typed Settings or a ConfigError that names the file
 * that set the bad key, the key path and what was expected (docs/design.md#configuration).
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, YAMLError } from 'yaml';
import { ConfigError } from '../base/errors.ts';
import type { LogLevel } from '../base/logger.ts';
import { boolean, integer, mapping, readOptions, string, type OptionSpec, type Specs } from '../base/schema.ts';
import { shownInError } from '../base/secret-names.ts';
import { readSessionSettings, type SessionSettings } from '../session/settings.ts';
import type { TemplateSettings } from '../views/engine.ts';
import { readTemplateSettings } from '../views/engine-registry.ts';

export type { LogLevel };

/** The checked settings an App runs with. */
export interface Settings {
  port: number; // default 3000 (0..65535; 0 = any free port)
  host: string; // default '127.0.0.1'
  log: LogLevel; // default 'info'
  max_body_size: number; // bytes, default 1048576; a larger request body is a 413
  environment: string; // default: the environment in use (DANCER_ENVIRONMENT, else 'development')
  /**
   * Whether error responses show the error (message, file:line, stack) instead of the status alone
   * and public/<status>.html. Default: environment === 'development'; true elsewhere is a
   * ConfigError, so no setting in config.yml can show a stack in production.
   */
  show_errors: boolean;
  /**
   * Whether request keywords (session(), params(), ...) work, through AsyncLocalStorage (default
   * true). false: only the ctx methods work, and no request enters an AsyncLocalStorage frame
   * (bench/ measures the difference: the `keywords: false` column of bench/results.md).
   */
  keywords: boolean;
  /** One line per request (method, path, status, duration, bytes); default: on in development only. */
  access_log: boolean;
  session: SessionSettings; // the engine chosen by `session:` (default 'Memory'), its options, the cookie policy
  // Views and files. Relative folders are under the app's root: the config dir (loadConfig), else the cwd.
  views: string; // the templates' folder, absolute; default <root>/views
  template: TemplateSettings; // the engine chosen by `template:` (default 'Eta') and its `engines.template.<Name>` options
  layout: string | false | undefined; // views/layouts/<layout>; false = none; default: layouts/main when it exists
  public_dir: string; // served before the routes, absolute; default <root>/public
  static_handler: boolean; // whether public_dir is served; default true
  max_file_size: number; // bytes per uploaded file, at most max_body_size (its default); a larger file is a 413
  max_files: number; // files in one multipart body, default 10; more is a 413
  /** Whether the client IP is taken from X-Forwarded-For (behind a proxy that sets it); default false. */
  trust_proxy: boolean;
  /**
   * How many processes `dance()` serves with (node:cluster, sharing the port); default 1: no
   * cluster, one process. `auto` in config.yml is os.availableParallelism() when the config is
   * read. `createApp(...).listen()` ignores it: it serves in the calling process.
   */
  workers: number;
}

/** What createApp() accepts: the same shape as config.yml, all optional. */
export interface SettingsInput {
  port?: number | string; host?: string; log?: string; max_body_size?: number | string; environment?: string;
  show_errors?: boolean | string; keywords?: boolean | string; access_log?: boolean | string; session?: string;
  engines?: { session?: Record<string, Record<string, unknown>>; template?: Record<string, Record<string, unknown>> };
  views?: string; template?: string; layout?: string | false; public_dir?: string; static_handler?: boolean | string;
  max_file_size?: number | string; max_files?: number | string; trust_proxy?: boolean | string; workers?: number | string;
}

/** The top level as read, before the defaults that depend on other keys are filled in. */
interface TopLevel extends Omit<Settings, 'environment' | 'show_errors' | 'access_log' | 'session' | 'views' | 'template' | 'public_dir' | 'max_file_size' | 'workers'> {
  environment: string | undefined; show_errors: boolean | undefined; access_log: boolean | undefined; session: string; engines: Record<string, unknown>;
  views: string; template: string; public_dir: string; max_file_size: number | undefined; workers: number | 'auto';
}

const layoutName = string('main');
/** A layout name, or false (`layout: false` in YAML, or "false" from ${VAR}) for none. */
const layoutSpec: OptionSpec<string | false | undefined> = {
  expected: 'a layout name under views/layouts/, or false for none',
  fallback: undefined,
  parse: value => (value === false || value === 'false' ? false : layoutName.parse(value)),
};

const workerCount = integer(1, 1);
/** A number of worker processes, or "auto" for one per core. */
const workersSpec: OptionSpec<number | 'auto'> = {
  expected: 'an integer of at least 1, or "auto" (one per core)',
  fallback: 1,
  parse: value => (typeof value === 'string' && value.trim().toLowerCase() === 'auto' ? 'auto' : workerCount.parse(value)),
};

const topLevelSpecs: Specs<TopLevel> = {
  port: integer(3000, 0, 65535),
  host: string('127.0.0.1'),
  log: string('info', ['debug', 'info', 'warning', 'error', 'none']) as OptionSpec<LogLevel>,
  max_body_size: integer(1048576, 0),
  environment: string(undefined),
  show_errors: { ...boolean(false), fallback: undefined },
  keywords: boolean(true),
  access_log: { ...boolean(false), fallback: undefined },
  session: string('Memory'),
  engines: mapping({}),
  views: string('views'),
  template: string('Eta'),
  layout: layoutSpec,
  public_dir: string('public'),
  static_handler: boolean(true),
  max_file_size: integer(undefined, 0),
  max_files: integer(10, 0),
  trust_proxy: boolean(false),
  workers: workersSpec,
};

/** The top-level keys of config.yml and how each is checked (docs/reference/config.md lists them; test/docs/reference.test.ts holds that). */
export const topLevelSettingSpecs: Readonly<Record<string, OptionSpec<unknown>>> = topLevelSpecs;

/** An environment names a file under environments/, so it must not reach outside it. */
const ENVIRONMENT_NAME = /^[A-Za-z0-9_-]+$/;

// reference := "$${" (a literal "${") | "${" NAME [ ":-" default ] "}" ; NAME := [A-Za-z_][A-Za-z0-9_]*
// A "${" that fits neither form is caught by the last, empty alternative and reported.
const REFERENCE = /\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\})?/g;

/** Errors from checking the merged tree carry this, then get the file that set the key. */
const MERGED = '(merged config)';

type Tree = Record<string, unknown>;
type Env = Record<string, string | undefined>;

/** Every Settings object `check` made: createApp takes these as they are. */
const checkedSettings = new WeakSet<Settings>();

/** Whether `value` is Settings that readSettings or loadConfig checked (not input to check). */
export function isCheckedSettings(value: unknown): value is Settings {
  return typeof value === 'object' && value !== null && checkedSettings.has(value as Settings);
}

/** Checks settings given in code (createApp). `file` labels ConfigErrors, default '(createApp settings)'. */
export function readSettings(input: SettingsInput | Record<string, unknown>, file = '(createApp settings)'): Settings {
  return check(input, file, process.env.DANCER_ENVIRONMENT || 'development', process.cwd());
}

/**
 * Reads config.yml (+ environments/<env>.yml over it), interpolates ${VAR}, checks everything.
 *
 * `dir` defaults to DANCER_CONFDIR, else the current directory; `environment` to
 * DANCER_ENVIRONMENT, else 'development'; `env` (for those two, for `${VAR}`, and for PORT and
 * HOST, which are the defaults of `port` and `host` under both files) to process.env.
 * Either file may be missing; `notice` is told so in one line (a missing file is often a mistake
 * that would otherwise run silently on defaults). Mappings merge key by key; lists and scalars
 * replace.
 */
export function loadConfig(options: LoadOptions = {}): Settings {
  const env = options.env ?? process.env;
  const dir = resolve(options.dir ?? (env.DANCER_CONFDIR || process.cwd()));
  const chosenEnvironment = options.environment ?? env.DANCER_ENVIRONMENT;
  const environment = chosenEnvironment || 'development';
  const source = (given: unknown, name: string) => (given === undefined ? name : '(loadConfig options)');
  if (!ENVIRONMENT_NAME.test(environment)) {
    throw new ConfigError(source(options.environment, 'DANCER_ENVIRONMENT'), 'environment', 'a name of letters, digits, "_" and "-" (it names environments/<name>.yml)', environment);
  }
  // A mistyped directory would otherwise run silently on defaults.
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError(source(options.dir, 'DANCER_CONFDIR'), 'dir', 'an existing directory holding config.yml', dir);
  }
  const origins = new Map<string, string>();
  let tree: Tree = Object.create(null);
  for (const name of ['PORT', 'HOST'] as const) {
    const value = env[name];
    if (value) tree = merge(tree, { [name.toLowerCase()]: value }, `${name} (environment variable)`, '', origins);
  }
  const environmentFile = `environments/${environment}.yml`;
  for (const file of ['config.yml', environmentFile]) {
    const layer = readYaml(dir, file);
    if (layer) tree = merge(tree, interpolate(layer, file, '', env) as Tree, file, '', origins);
    else if (file === 'config.yml') options.notice?.(`no config.yml in ${dir}: running on the defaults`);
    else if (chosenEnvironment) options.notice?.(`no ${environmentFile} in ${dir} for the environment "${environment}": using config.yml alone`);
  }
  try {
    const settings = check(tree, MERGED, environment, dir);
    if (settings.environment !== environment) {
      // The files were chosen by the environment in use; a different name here would be a lie.
      throw new ConfigError(MERGED, 'environment', `${JSON.stringify(environment)}, the environment in use (choose it with DANCER_ENVIRONMENT)`, settings.environment);
    }
    return settings;
  } catch (error) {
    if (!(error instanceof ConfigError) || error.file !== MERGED) throw error;
    throw error.withFile(originOf(error.key, origins));
  }
}

export interface LoadOptions {
  dir?: string;
  environment?: string;
  env?: Env;
  /** Told, in one line each, about a missing config.yml or environment file. */
  notice?: (message: string) => void;
}

/** Checks a whole settings tree; every ConfigError it throws names `file`. `root` anchors relative folders. */
function check(input: unknown, file: string, environmentInUse: string, root: string): Settings {
  const top = readOptions(topLevelSpecs, input, { file, path: '' });
  const { session: blocks, template: templateBlocks } = readOptions({ session: mapping({}), template: mapping({}) }, top.engines, { file, path: 'engines' });
  const chosen = top.session.toLowerCase();
  const seen = new Map<string, string>();
  let session: SessionSettings | undefined;
  // Every block is checked, not only the chosen one: a typo in the Redis block must show up
  // while developing on Memory, not on the day production switches to Redis.
  for (const [name, options] of Object.entries(blocks)) {
    const path = `engines.session.${name}`;
    const other = seen.get(name.toLowerCase());
    if (other !== undefined) throw new ConfigError(file, path, `one block per engine (${other} and ${name} name the same engine)`);
    seen.set(name.toLowerCase(), name);
    const read = readSessionSettings(name, options, { file, enginePath: path, optionsPath: path });
    if (name.toLowerCase() === chosen) session = read;
  }
  // An engine chosen without a block of its own runs on its defaults.
  session ??= readSessionSettings(top.session, undefined, { file, enginePath: 'session', optionsPath: `engines.session.${top.session}` });
  // Checked on the value as written, so that a config valid on one machine is valid on all.
  const processLocal = session.engine.processLocal;
  if (top.workers !== 1 && typeof processLocal === 'function' && processLocal(session.engineOptions)) {
    throw new ConfigError(file, 'workers', `1 with the ${session.engineName} session engine's in-process store (each worker would keep its own, so a logout through one would not be seen by the others); to run several workers point it at Redis`, top.workers);
  }
  if (top.workers !== 1 && processLocal === true) {
    throw new ConfigError(file, 'workers', `1 with the ${session.engineName} session engine, which keeps sessions inside one process (each worker would have its own, and a session made through one would be unknown to the others); to run several workers choose a session engine they share: session: Redis, or session: Cookie (the session sealed in the cookie)`, top.workers);
  }
  // A file is part of the body, so the body's limit stops it first: a larger max_file_size
  // would be accepted and never apply.
  if (top.max_file_size !== undefined && top.max_file_size > top.max_body_size) {
    throw new ConfigError(file, 'max_file_size', `at most max_body_size (${top.max_body_size} bytes), which caps the whole body and so every file in it; raise max_body_size too, or lower max_file_size`, top.max_file_size);
  }
  const environment = top.environment ?? environmentInUse;
  const { port, host, log, max_body_size, keywords, layout, static_handler, max_files, trust_proxy } = top;
  const development = environment === 'development';
  if (top.show_errors === true && !development) {
    // A Dancer2 config often sets show_errors in config.yml, which every environment reads.
    throw new ConfigError(file, 'show_errors', `false outside the development environment (the environment is "${environment}", whose clients must never see an error's stack or message); set show_errors in environments/development.yml`, true);
  }
  const settings: Settings = {
    port, host, log, max_body_size, keywords, environment, session,
    show_errors: top.show_errors ?? development, access_log: top.access_log ?? development,
    views: resolve(root, top.views), template: readTemplateSettings(top.template, templateBlocks, file), layout,
    public_dir: resolve(root, top.public_dir), static_handler, max_file_size: top.max_file_size ?? max_body_size, max_files,
    trust_proxy,
    workers: top.workers === 'auto' ? availableParallelism() : top.workers,
  };
  checkedSettings.add(settings);
  return settings;
}

/** Parses `<dir>/<file>`; undefined when it does not exist, `{}` when it is empty. */
function readYaml(dir: string, file: string): Tree | undefined {
  let value: unknown;
  try {
    // `merge` lets a Dancer2 config share blocks with `<<: *anchor`.
    value = parse(readFileSync(join(dir, file), 'utf8'), { merge: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (!(error instanceof YAMLError)) throw error;
    const line = error.linePos?.[0].line;
    const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '');
    throw new ConfigError(file, line === undefined ? '' : `line ${line}`, `valid YAML (${reason})`);
  }
  if (value === null || value === undefined) return Object.create(null);
  if (!isMapping(value)) throw new ConfigError(file, '', 'a mapping of settings (key: value lines)', value);
  return value;
}

/** Replaces ${NAME} and ${NAME:-default} in every string value (not keys) of `value`. */
function interpolate(value: unknown, file: string, path: string, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$${') return '${';
      if (name === undefined) throw new ConfigError(file, path, '${NAME} or ${NAME:-default} (write $${ for a literal ${)', shownInError(path, value));
      const set = env[name];
      // Like the shell: ":-" also replaces a variable that is set but empty.
      if (fallback !== undefined && !set) return fallback;
      if (set !== undefined) return set;
      throw new ConfigError(file, path, `environment variable ${name} to be set (or give a default: \${${name}:-value})`);
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, file, keyPath(path, String(i)), env));
  if (!isMapping(value)) return value;
  // A null prototype keeps a `__proto__` key an ordinary (and then unknown) key.
  const out: Tree = Object.create(null);
  for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, file, keyPath(path, key), env);
  return out;
}

/** `over` merged into `base`; records in `origins` the file that set each key path. */
function merge(base: Tree, over: Tree, file: string, path: string, origins: Map<string, string>): Tree {
  const out: Tree = Object.assign(Object.create(null), base);
  for (const [key, value] of Object.entries(over)) {
    const at = keyPath(path, key);
    // A mapping is merged even into nothing, so that each of its keys records this file.
    const before = isMapping(out[key]) ? (out[key] as Tree) : Object.create(null);
    out[key] = isMapping(value) ? merge(before, value, file, at, origins) : value;
    origins.set(at, file);
  }
  return out;
}

/** The file that set `key`, or the nearest enclosing key that a file set. */
function originOf(key: string, origins: Map<string, string>): string {
  for (let path = key; path; path = path.slice(0, Math.max(0, path.lastIndexOf('.')))) {
    const file = origins.get(path);
    if (file !== undefined) return file;
  }
  return 'config.yml';
}

const keyPath = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** A plain object: what YAML gives for a mapping (not a list, Date, Buffer, ...). */
function isMapping(value: unknown): value is Tree {
  const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  return proto === Object.prototype || proto === null;
}
