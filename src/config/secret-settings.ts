/**
 * Which settings are secret, and the settings as user code sees them: the one place that knows.
 *
 * The app runs on the real values (`app.settings`, what createApp hands the engines). What a
 * person may see — `setting()`, `config()`, the `settings` token of templates, a ConfigError's
 * "got" — goes through here, because a debug dump of settings in a page, or a config error
 * pasted into a ticket, must not carry the Cookie engine's keys or the Redis password.
 *
 * A setting is secret by its name, not by the engine that declares it, so a third-party engine's
 * `api_token` or `tls.key` is hidden without the engine doing anything: the last word of the
 * name (split at `_`, `-`, `.` and camelCase) is one of SECRET_WORDS. A false positive costs a
 * `[hidden]` on a harmless value; a false negative would print a secret. Any string that is a URL
 * with a password (`redis://:pw@host`) keeps everything but the password, under any name.
 */
import type { Settings } from './config.ts';

/** What a secret is shown as. */
export const HIDDEN = '[hidden]';

const SECRET_WORDS = new Set(['secret', 'secrets', 'password', 'passwords', 'passphrase', 'token', 'tokens', 'key', 'keys', 'pfx', 'credentials']);

/** Whether the setting `name` (the last segment of its path) holds a secret. */
export function isSecretSetting(name: string): boolean {
  const last = name.split(/[_\-.]+|(?<=[a-z0-9])(?=[A-Z])/).at(-1) ?? '';
  return SECRET_WORDS.has(last.toLowerCase());
}

// url := scheme "://" [userinfo "@"] rest. The userinfo is taken to run to the last "@", so that a
// password written with an unencoded "@", "/" or "#" is hidden whole: hiding too much of an odd
// URL is better than printing part of a password.
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^\s]*)@/i;

/** `text` with the password of a URL in it hidden (`redis://user:[hidden]@host`); other text as it is. */
export function withoutUrlPassword(text: string): string {
  const match = URL_USERINFO.exec(text);
  if (!match) return text;
  const [whole, scheme, userinfo] = match as unknown as [string, string, string];
  const colon = userinfo.indexOf(':');
  // A userinfo without ":" may be a token standing for the password (https://TOKEN@host).
  const shown = colon === -1 ? HIDDEN : `${userinfo.slice(0, colon)}:${HIDDEN}`;
  return `${scheme}${shown}@${text.slice(whole.length)}`;
}

/**
 * What a ConfigError may print as the value given for the setting at `path` (`a.b.c`, a list's
 * items numbered: `secret_keys.1`): for a secret only its kind (`a number (not shown: a secret)`),
 * for a string its URL password hidden, else the value.
 */
export function shownInError(path: string, value: unknown): unknown {
  const name = path.split('.').findLast(segment => !/^\d+$/.test(segment)) ?? '';
  if (isSecretSetting(name)) return new NotShown(value);
  return typeof value === 'string' ? withoutUrlPassword(value) : value;
}

/** A secret given where a ConfigError would print it: printed as its kind only. */
export class NotShown {
  readonly #kind: string;
  constructor(value: unknown) {
    this.#kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
  }
  toString(): string {
    return `${this.#kind} (not shown: a secret)`;
  }
}

/**
 * The settings as `setting()`, `config()` and templates show them: shaped like config.yml.
 * `session` and `template` are the chosen engines' names (`'Redis'`, `'Eta'`), as Dancer2's
 * `setting('session')` is; `engines` holds each chosen engine's checked block (for the session
 * engine its cookie policy and its own options); every secret in it is `'[hidden]'`.
 */
export interface PublicSettings extends Omit<Settings, 'session' | 'template'> {
  session: string;
  template: string;
  engines: {
    session: Record<string, Readonly<Record<string, unknown>>>;
    template: Record<string, Readonly<Record<string, unknown>>>;
  };
}

/** One view per Settings object: App replaces its Settings on a change, so a view is never stale. */
const views = new WeakMap<Settings, Readonly<PublicSettings>>();

/**
 * `settings` with every secret hidden, frozen (one object shared by all requests, so that one
 * request cannot change what the next sees); built once per Settings object.
 */
export function publicSettings(settings: Settings): Readonly<PublicSettings> {
  let view = views.get(settings);
  if (view === undefined) {
    const { session, template, ...rest } = settings;
    const shaped: PublicSettings = {
      ...rest,
      session: session.engineName,
      template: template.name,
      engines: {
        session: { [session.engineName]: { ...session.policy, ...session.engineOptions } },
        template: { [template.name]: { ...template.options } },
      },
    };
    view = hidden(shaped, '') as PublicSettings;
    views.set(settings, view);
  }
  return view;
}

/** A frozen copy of `value` with what sits under a secret name, and URL passwords, hidden. */
function hidden(value: unknown, name: string): unknown {
  if (value === undefined || value === null) return value;
  if (isSecretSetting(name)) return Array.isArray(value) ? Object.freeze(value.map(() => HIDDEN)) : HIDDEN;
  if (typeof value === 'string') return withoutUrlPassword(value);
  if (Array.isArray(value)) return Object.freeze(value.map(item => hidden(item, '')));
  // Plain mappings only (what config.yml and createApp give); an engine's own objects pass as they are.
  if (typeof value !== 'object' || ![Object.prototype, null].includes(Object.getPrototypeOf(value))) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = hidden(item, key);
  return Object.freeze(out);
}
