/**
 * Response headers checked where they are set, so a bad one fails the route (an uncaught 500
 * that saves no session change) instead of failing later in `writeHead`, after the session was
 * committed. The rules are node:http's own (`validateHeaderName` / `validateHeaderValue`), so
 * what passes here is what node will send.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';

/** Throws a TypeError naming the header and the value when node:http would refuse to send them. */
export function checkHeader(name: string, value: string | readonly string[]): void {
  const problem = headerProblem(name, value);
  if (problem) throw new TypeError(`header(${JSON.stringify(name)}, ${JSON.stringify(value)}): ${problem}`);
}

/**
 * Checks headers set straight on `ctx.responseHeaders`, which `header()` never saw. Run only
 * before a session commit (the one thing a bad header must not let through); elsewhere
 * writeHead's own check turns them into a 500.
 */
export function checkHeaders(headers: Readonly<Record<string, string | readonly string[]>>): void {
  for (const name in headers) {
    const value = headers[name]!;
    const problem = headerProblem(name, value);
    if (problem) throw new TypeError(`ctx.responseHeaders[${JSON.stringify(name)}] = ${JSON.stringify(value)}: ${problem}`);
  }
}

/** Why node:http would refuse to send this header, or undefined when it would send it. */
function headerProblem(name: string, value: string | readonly string[]): string | undefined {
  try {
    validateHeaderName(name);
  } catch {
    return "not a valid header name; use letters, digits and !#$%&'*+-.^_`|~ only";
  }
  try {
    if (typeof value === 'string') validateHeaderValue(name, value);
    else for (const item of value) validateHeaderValue(name, item);
  } catch {
    return 'HTTP does not allow this value in a header (CR, LF and other control characters, or characters above U+00FF); remove or encode them';
  }
  return undefined;
}

// Control characters (C0 and DEL): never part of a URL (the WHATWG URL parser even strips tab
// and newlines), so in a redirect target they mean unchecked input, refused rather than encoded.
const CONTROL = /[\x00-\x1f\x7f]/;
// encodeurl 2.0 (what Express's res.location uses): runs of characters outside RFC 3986's
// unreserved / reserved set and "%", and "%" not starting a %XX escape.
const NOT_URL = /(?:[^\x21\x23-\x3B\x3D\x3F-\x5F\x61-\x7A\x7C\x7E]+|%+(?![0-9A-Fa-f]{2})){1,1024}/g;
// A surrogate pair, or a lone surrogate (which encodeURI would throw on: it becomes U+FFFD).
const SURROGATE = /([\uD800-\uDBFF][\uDC00-\uDFFF])|[\uD800-\uDFFF]/g;

/**
 * A redirect target as a Location header value: percent-encodes what a URL may not hold
 * (`/café` -> `/caf%C3%A9`), keeps existing %XX escapes; control characters are a TypeError.
 */
export function locationHeader(location: string): string {
  if (typeof location !== 'string' || CONTROL.test(location)) {
    throw new TypeError(`redirect(${JSON.stringify(location)}): a redirect target must be a URL string without control characters (CR, LF, ...)`);
  }
  return location.replace(SURROGATE, wellFormed).replace(NOT_URL, encodeURI);
}

function wellFormed(_match: string, pair: string | undefined): string {
  return pair ?? '\uFFFD';
}
