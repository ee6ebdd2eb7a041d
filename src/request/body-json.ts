/**
 * JSON from a client, parsed so that what reaches the app is safe to use and to store:
 * a 400 for nesting deeper than MAX_BODY_DEPTH (a 4 KB body of 2,000 `[` would otherwise
 * overflow any recursive walk of the value, the session's JSON check among them), for a number
 * beyond the double range (JSON.parse reads `1e400` as Infinity, which JSON cannot hold), and for
 * the keys that poison prototypes when the value is later merged into an object: `__proto__`, and
 * `constructor` holding a `prototype` (fastify's secure-json-parse refuses the same two).
 *
 * Ordinary bodies pay one linear scan of the text, which jumps over strings with indexOf; the
 * parsed value is walked only when the text could hold one of the refused things.
 */
import { HttpError } from '../base/errors.ts';

/** How many levels of arrays and objects a JSON body may nest (`[[1]]` is 2). */
export const MAX_BODY_DEPTH = 64;

// A "__proto__" or "constructor" key, letters possibly written as \u escapes, as in
// secure-json-parse (which JSON.parse decodes, so a plain search would miss them).
const PROTO_KEY = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
const CONSTRUCTOR_KEY = /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/;
/** Parses a JSON request body, or throws an HttpError 400 that says what was refused. */
export function parseJsonBody(text: string): unknown {
  const hugeNumber = scan(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON');
  }
  if (value !== null && typeof value === 'object') {
    if (hugeNumber || mayPoison(text)) checkValue(value);
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    throw hugeNumberError();
  }
  return value;
}

/** Whether the text may hold a refused key. The native substring searches spare ordinary bodies the regexes. */
function mayPoison(text: string): boolean {
  const suspect = text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
  return suspect && (PROTO_KEY.test(text) || CONSTRUCTOR_KEY.test(text));
}

/**
 * One pass over the text outside strings: throws when brackets nest deeper than MAX_BODY_DEPTH,
 * and tells whether a number may overflow a double (309 digits in a row, or digits and exponent
 * together reaching 300), for checkValue to find out. Fraction digits count too: an overcount
 * only costs the walk.
 */
function scan(text: string): boolean {
  let depth = 0;
  let digits = 0;
  let huge = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i = stringEnd(text, i);
      digits = 0;
      continue;
    }
    if (c <= 57 && c >= 48 /* 0-9 */) {
      if (++digits === 309) huge = true;
      continue;
    }
    if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > MAX_BODY_DEPTH) throw new HttpError(400, `The request body nests JSON deeper than ${MAX_BODY_DEPTH} levels`);
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
    } else if ((c === 101 || c === 69) /* e E */ && digits > 0) {
      // A number's exponent (true and false have no digit before their "e").
      let j = text.charCodeAt(i + 1) === 43 /* + */ ? i + 2 : i + 1;
      while (text.charCodeAt(j) === 48 /* a leading 0 */) j++;
      let exponent = 0;
      for (; isDigit(text.charCodeAt(j)) && exponent < 1000; j++) exponent = exponent * 10 + text.charCodeAt(j) - 48;
      if (digits + exponent >= 300) huge = true;
    }
    if (c !== 46 /* . */) digits = 0;
  }
  return huge;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * text[start] is '"': the index of the closing quote (the end of the text if there is none).
 * Short strings (most keys and values) are read a character at a time; the rest of a long one
 * is jumped over with indexOf, a quote counting as the end after an even run of backslashes.
 */
function stringEnd(text: string, start: number): number {
  const shortEnd = Math.min(text.length, start + 24);
  let i = start + 1;
  for (; i < shortEnd; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) return i;
    if (c === 92 /* \ */) i++;
  }
  for (let quote = i - 1; ; ) {
    quote = text.indexOf('"', quote + 1);
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 92 /* \ */) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
}

/** Walks the parsed value (at most MAX_BODY_DEPTH deep) for what parseJsonBody refuses. */
function checkValue(value: object): void {
  const pending: object[] = [value];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (!Array.isArray(node)) {
      if (Object.hasOwn(node, '__proto__')) throw poisoned('__proto__');
      const ctor = (node as Record<string, unknown>).constructor;
      if (Object.hasOwn(node, 'constructor') && ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) {
        throw poisoned('constructor.prototype');
      }
    }
    for (const item of Object.values(node)) {
      if (typeof item === 'number') {
        if (!Number.isFinite(item)) throw hugeNumberError();
      } else if (item !== null && typeof item === 'object') {
        pending.push(item);
      }
    }
  }
}

function hugeNumberError(): HttpError {
  return new HttpError(400, 'The request body has a number beyond the range of a double (such as 1e400); send it as a string');
}

function poisoned(key: string): HttpError {
  return new HttpError(400, `The request body has a "${key}" key, which is refused: it could change object prototypes`);
}
