/**
 * Parses `application/x-www-form-urlencoded` text: query strings and form bodies.
 * Unlike URLSearchParams, malformed percent-encoding is an error (a 400), not a silent U+FFFD,
 * and a key given more than once becomes an array of its values in order.
 */
import { HttpError } from '../base/errors.ts';

export type UrlencodedValues = Record<string, string | string[]>;

/** `what` names the source in the 400 message ("query string", "form body"). */
export function parseUrlencoded(text: string, what: string): UrlencodedValues {
  const result: UrlencodedValues = Object.create(null);
  if (text === '') return result;
  // form := pair ("&" pair)* ; pair := name ["=" value] ; "+" means space
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq), what);
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1), what);
    const previous = result[name];
    if (previous === undefined) result[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else result[name] = [previous, value];
  }
  return result;
}

function decode(text: string, what: string): string {
  if (text.indexOf('%') === -1 && text.indexOf('+') === -1) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new HttpError(400, `Malformed percent-encoding in the ${what}`);
  }
}
