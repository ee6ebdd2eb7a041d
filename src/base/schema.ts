/**
 * Option specs: how one config key is read and checked. Used for the top-level settings, the
 * session factory's cookie keys and each engine's own keys, so every bad value gets the same kind
 * of ConfigError (file, key path, what was expected, what was given).
 *
 * Values from `${VAR}` interpolation arrive as strings, so number and boolean specs also accept
 * the string forms ("3000", "true"): `port: ${PORT:-3000}` is the number 3000.
 */
import { ConfigError } from './errors.ts';
import { shownInError } from './secret-names.ts';

/** What a spec's `parse` returns for a value that does not fit. */
export const INVALID: unique symbol = Symbol('invalid');

/** How to read one option. `parse` returns the value, or `INVALID` when it does not fit. */
export interface OptionSpec<T> {
  /** What is expected, as the end of "expected ...": "an integer from 1 to 65535". */
  readonly expected: string;
  /** The value when the key is absent. `undefined` means the key is optional with no value. */
  readonly fallback: T;
  parse(value: unknown): T | typeof INVALID;
}

export type Specs<T> = { [K in keyof T]-?: OptionSpec<T[K]> };

/**
 * Reads `input` (a mapping from the YAML, or a partial object from code) against `specs`.
 * Unknown keys are an error: a typo must not silently fall back to a default.
 * `where` names the file and `path` the key path of `input` inside it, for the messages.
 */
export function readOptions<T>(specs: Specs<T>, input: unknown, where: { file: string; path: string }): T {
  const at = (key: string) => (where.path ? `${where.path}.${key}` : key);
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError(where.file, where.path, 'a mapping of settings', shownInError(where.path, input));
  }
  const known = Object.keys(specs);
  for (const key of Object.keys(input as object)) {
    if (!Object.hasOwn(specs, key)) {
      throw new ConfigError(where.file, at(key), `a known setting (one of: ${known.join(', ')})`);
    }
  }
  const result: Record<string, unknown> = {};
  for (const key of known) {
    const spec = (specs as Record<string, OptionSpec<unknown>>)[key]!;
    const raw = (input as Record<string, unknown>)[key];
    if (raw === undefined || raw === null) {
      result[key] = spec.fallback;
      continue;
    }
    const value = spec.parse(raw);
    // A secret given wrong is still a secret: the message says what kind of value it was only.
    if (value === INVALID) throw new ConfigError(where.file, at(key), spec.expected, shownInError(key, raw));
    result[key] = value;
  }
  return result as T;
}

function spec<T>(expected: string, fallback: T, parse: (value: unknown) => T | typeof INVALID): OptionSpec<T> {
  return { expected, fallback, parse };
}

/** An integer in [min, max]. */
export function integer(fallback: number, min?: number, max?: number): OptionSpec<number>;
export function integer(fallback: undefined, min?: number, max?: number): OptionSpec<number | undefined>;
export function integer(fallback: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return spec(expected, fallback, value => {
    const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : INVALID;
  });
}

/** A string; with `choices`, one of them (matched without regard to case, returned as listed). */
export function string(fallback: string, choices?: readonly string[]): OptionSpec<string>;
export function string(fallback: undefined, choices?: readonly string[]): OptionSpec<string | undefined>;
export function string(fallback: string | undefined, choices?: readonly string[]) {
  const expected = choices ? `one of ${choices.map(c => JSON.stringify(c)).join(', ')}` : 'a string';
  return spec(expected, fallback, value => {
    if (typeof value !== 'string') return INVALID;
    if (!choices) return value;
    return choices.find(c => c.toLowerCase() === value.toLowerCase()) ?? INVALID;
  });
}

/** A string matching `pattern`; `expected` describes it for people. */
export function matching(fallback: string | undefined, pattern: RegExp, expected: string): OptionSpec<string | undefined> {
  return spec(expected, fallback, value => (typeof value === 'string' && pattern.test(value) ? value : INVALID));
}

/** true/false; also "true"/"false", "yes"/"no", "1"/"0" and 1/0, as Dancer2 configs write them. */
export function boolean(fallback: boolean): OptionSpec<boolean> {
  return spec('true or false', fallback, value => {
    if (typeof value === 'boolean') return value;
    const text = String(value).trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(text)) return true;
    if (['false', 'no', '0', 'off'].includes(text)) return false;
    return INVALID;
  });
}

/** true/false (in any form boolean() reads) or the word "auto", for a setting decided per request. */
export function booleanOrAuto(fallback: boolean | 'auto'): OptionSpec<boolean | 'auto'> {
  const yesNo = boolean(false);
  return spec('true, false or "auto"', fallback, value => (typeof value === 'string' && value.trim().toLowerCase() === 'auto' ? 'auto' : yesNo.parse(value)));
}

const UNIT_SECONDS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
};

/**
 * A duration in whole seconds: a number (3600) or Dancer2's human form ("1 hour", "2d", "1h 30m").
 */
export function duration(fallback: number): OptionSpec<number>;
export function duration(fallback: undefined): OptionSpec<number | undefined>;
export function duration(fallback: number | undefined) {
  return spec('a duration in seconds (3600) or like "1 hour", "2d", "1h 30m"', fallback, value => {
    if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : INVALID;
    if (typeof value !== 'string') return INVALID;
    const text = value.trim();
    if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) : INVALID;
    // duration := part (space* part)* ; part := digits space* unit
    if (!/^(\d+\s*[a-z]+\s*)+$/i.test(text)) return INVALID;
    const parts = text.matchAll(/(\d+)\s*([a-z]+)/gi);
    let seconds = 0;
    for (const [, amount, unit] of parts) {
      const factor = UNIT_SECONDS[unit!.toLowerCase()];
      if (factor === undefined) return INVALID;
      seconds += Number(amount) * factor;
    }
    return seconds > 0 ? seconds : INVALID;
  });
}

/** A list whose every item fits `item`. A single string is read as a comma-separated list. */
export function list<T>(item: OptionSpec<T>, fallback: T[] | undefined): OptionSpec<T[] | undefined> {
  // "a list of strings"; an item described at length keeps its words: "a list, each a "host:port" address such as ...".
  const expected = /^an? [\w-]+$/.test(item.expected) ? `a list of ${item.expected.replace(/^an? /, '')}s` : `a list, each ${item.expected}`;
  return spec(expected, fallback, value => {
    const items = typeof value === 'string' ? value.split(',').map(s => s.trim()).filter(Boolean) : value;
    if (!Array.isArray(items)) return INVALID;
    const parsed: T[] = [];
    for (const raw of items) {
      const one = item.parse(raw);
      if (one === INVALID) return INVALID;
      parsed.push(one);
    }
    return parsed;
  });
}

/** A mapping passed through as it is (checked later by whoever owns it, e.g. engine options). */
export function mapping(fallback: Record<string, unknown>): OptionSpec<Record<string, unknown>> {
  return spec('a mapping', fallback, value =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : INVALID,
  );
}
