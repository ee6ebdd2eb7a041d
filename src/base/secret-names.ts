/**
 * Which setting names are secret, and how a secret is shown where a person may read it: the
 * rules config/secret-settings.ts (the settings as user code sees them) and a ConfigError
 * (errors.ts, schema.ts) apply. Values only, no settings: the layers below config use them too.
 *
 * A setting is secret by its name, not by the engine that declares it, so a third-party engine's
 * `api_token` or `tls.key` is hidden without the engine doing anything: the last word of the
 * name (split at `_`, `-`, `.` and camelCase) is one of SECRET_WORDS. A false positive costs a
 * `[hidden]` on a harmless value; a false negative would print a secret. Any string that is a URL
 * with a password (`redis://:pw@host`) keeps everything but the password, under any name.
 */

/** What a secret is shown as. */
export const HIDDEN = '[hidden]';

const SECRET_WORDS = new Set(['secret', 'secrets', 'password', 'passwords', 'passphrase', 'token', 'tokens', 'key', 'keys', 'pfx', 'credentials']);

/** Whether the setting `name` (the last segment of its path) holds a secret. */
export function isSecretSetting(name: string): boolean {
  const last = name.split(/[_\-.]+|(?<=[a-z0-9])(?=[A-Z])/).at(-1) ?? '';
  return SECRET_WORDS.has(last.toLowerCase());
}

// url := scheme "://" [userinfo "@"] rest. The userinfo is taken to run to the last "@", so that a
// password written with an unencoded "@", "/", "#" or a space is hidden whole: hiding too much of
// an odd URL is better than printing part of a password. A URL with a space is invalid, and so
// is exactly the value a ConfigError prints.
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^\n]*)@/i;

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
