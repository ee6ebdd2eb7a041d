/**
 * The DBSC HTTP headers (RFC 9651 structured fields), read leniently and written strictly.
 *
 * Read: `Secure-Session-Response` and `Sec-Secure-Session-Id` are sf-strings in the spec, but
 * Chromium 156 sends them bare (docs/design.md#device-bound-sessions): both forms are accepted,
 * parameters ignored. `Secure-Session-Skipped` is a list of tokens with a `session_identifier`.
 * Written: `Secure-Session-Registration` (an inner list of algorithms with path and challenge)
 * and `Secure-Session-Challenge` (a string with the session's id), always quoted.
 */
import type { DbscAlgorithm } from './binding.ts';

/** The value of a string-valued field sent quoted or bare; undefined when absent or malformed. */
export function stringField(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text.startsWith('"')) {
    const parsed = readSfString(text, 0);
    return parsed === undefined || parsed.value === '' ? undefined : parsed.value;
  }
  // Bare: up to the first parameter; only visible characters a JWT or our ids can hold.
  const bare = text.split(';', 1)[0]!.trim();
  return /^[\x21-\x7e]+$/.test(bare) && !bare.includes('"') && !bare.includes(',') ? bare : undefined;
}

/** One entry of `Secure-Session-Skipped`. */
export interface SkippedRefresh {
  /** `unreachable`, `server_error`, `quota_exceeded` (or another token a later spec adds). */
  reason: string;
  sessionId: string | undefined;
}

/** The entries of a `Secure-Session-Skipped` header; malformed entries are left out. */
export function skippedRefreshes(value: string | string[] | undefined): SkippedRefresh[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(', ') : value;
  const found: SkippedRefresh[] = [];
  let i = 0;
  while (i < text.length && found.length < 16) {
    while (text[i] === ' ' || text[i] === ',') i++;
    const token = /^[A-Za-z*][A-Za-z0-9_\-.:%*/!#$&'+^`|~]*/.exec(text.slice(i, i + 64));
    if (!token) break;
    i += token[0].length;
    let sessionId: string | undefined;
    while (text[i] === ';') {
      i++;
      const key = /^[a-z*][a-z0-9_\-.*]*/.exec(text.slice(i, i + 64));
      if (!key) return found;
      i += key[0].length;
      if (text[i] !== '=') continue;
      i++;
      if (text[i] === '"') {
        const parsed = readSfString(text, i);
        if (parsed === undefined) return found;
        if (key[0] === 'session_identifier') sessionId = parsed.value;
        i = parsed.end;
      } else {
        const bare = /^[^;,\s]*/.exec(text.slice(i))![0];
        if (key[0] === 'session_identifier') sessionId = bare;
        i += bare.length;
      }
    }
    found.push({ reason: token[0], sessionId });
  }
  return found;
}

/** `Secure-Session-Registration`: register at `path` with one of `algorithms`, proving `challenge`. */
export function registrationHeader(algorithms: readonly DbscAlgorithm[], path: string, challenge: string): string {
  return `(${algorithms.join(' ')});path=${sfString(path)};challenge=${sfString(challenge)}`;
}

/** `Secure-Session-Challenge`: the next proof of DBSC session `id` signs `challenge`. */
export function challengeHeader(challenge: string, id: string): string {
  return `${sfString(challenge)};id=${sfString(id)}`;
}

/** An sf-string; our values are printable ASCII (a TypeError otherwise: a bug, not input). */
function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new TypeError(`not an sf-string: ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, c => `\\${c}`)}"`;
}

/** Reads an sf-string starting at `text[start] === '"'`: its value and the index after it. */
function readSfString(text: string, start: number): { value: string; end: number } | undefined {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[++i];
      if (next !== '"' && next !== '\\') return undefined;
      value += next;
    } else if (c === '"') {
      return { value, end: i + 1 };
    } else if (c < ' ' || c > '~') {
      return undefined;
    } else {
      value += c;
    }
  }
  return undefined;
}
