/**
 * The settings as user code sees them, secrets hidden by the rules of base/secret-names.ts.
 *
 * The app runs on the real values (`app.settings`, what createApp hands the engines). What a
 * person may see — `setting()`, `config()`, the `settings` token of templates, a ConfigError's
 * "got" — goes through here, because a debug dump of settings in a page, or a config error
 * pasted into a ticket, must not carry the Cookie engine's keys or the Redis password.
 */
import type { Settings } from './config.ts';
import { HIDDEN, isSecretSetting, withoutUrlPassword } from '../base/secret-names.ts';

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
