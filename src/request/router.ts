/**
 * The route table: patterns are compiled once at `add()`, and `match()` finds the first route, in
 * registration order, whose methods and pattern fit a request.
 *
 * Dynamic patterns run against a "segment-decoded" path: each segment percent-decoded, with only
 * `%` and `/` inside a segment re-encoded (`%25`, `%2F`). Real slashes then separate segments
 * only, so `/files/a%2Fb` gives `name = 'a/b'` for `/files/:name`, and static text such as
 * `café` compares decoded. A path without `%` is already in that form: no decoding work at all.
 */
import { HttpError } from '../base/errors.ts';
import type { StandardSchemaV1 } from './validation/standard-schema.ts';

/**
 * What a route may say about itself besides its handler: `post('/api', { csrf: false }, h)`.
 * The pipeline reads it after the match; the router only keeps it.
 */
export interface RouteOptions {
  /**
   * Check the CSRF token before this route (csrf-check.ts); absent: the session's `csrf` setting.
   * `false` also lets cross-site requests in (the Sec-Fetch-Site lock, csrf-check.ts).
   */
  readonly csrf?: boolean;
  /**
   * Seconds: the route runs only for a session whose user logged in (or logged in again) at most
   * this long ago; else a redirect to `reauth_redirect`, or a 401 (recent-auth.ts).
   */
  readonly recentAuth?: number;
  /**
   * Standard Schemas (zod, valibot, ...) for the route's params, query and body: validated before
   * the handler, parsed into `ctx.valid`; invalid input is a 400 (validation/input.ts).
   */
  readonly params?: StandardSchemaV1;
  readonly query?: StandardSchemaV1;
  readonly body?: StandardSchemaV1;
  /**
   * Refuse (403) a request whose session is device-bound (the `dbsc` setting) but that came
   * without the session's valid bound cookie: a copied session cookie alone is not enough here.
   * Sessions that are not bound pass (request/dbsc/device-binding.ts).
   */
  readonly deviceBound?: boolean;
}

/** The options of a route that gave none (one shared frozen object). */
export const NO_ROUTE_OPTIONS: RouteOptions = Object.freeze({});

/** The result of `Router.match()`. */
export interface RouteMatch<H> {
  handler: H;
  /** The options the route was added with. */
  options: RouteOptions;
  /** Named parameters, percent-decoded, on a null-prototype object. Absent optional ones are missing. */
  params: Record<string, string>;
  /** Captures of `*` and `**` (or a RegExp's unnamed groups; '' when one did not take part), decoded. */
  splat: string[];
  /** Position of the matched route; `pass()` resumes with `match(method, path, index + 1)`. */
  index: number;
}

/** One compiled route. A class, so every route has one shape and match() reads stay monomorphic. */
class Route<H> {
  readonly index: number;
  readonly handler: H;
  readonly options: RouteOptions;
  /** Upper-case methods (HEAD added wherever GET is), or null for any method. */
  readonly methods: ReadonlySet<string> | null;
  /** Null for a static route: those are found by string in the static map instead. */
  readonly regex: RegExp | null;
  /** Literal start of every path the regex can match: a startsWith() check skips most misses. */
  readonly prefix: string;
  /** Per capture group: the param name, or null for a splat entry. */
  readonly names: readonly (string | null)[];
  /** True for a user's RegExp, which runs on the fully decoded path. */
  readonly onDecoded: boolean;

  constructor(
    index: number,
    handler: H,
    options: RouteOptions,
    methods: ReadonlySet<string> | null,
    regex: RegExp | null = null,
    prefix = '',
    names: readonly (string | null)[] = [],
    onDecoded = false,
  ) {
    this.index = index;
    this.handler = handler;
    this.options = options;
    this.methods = methods;
    this.regex = regex;
    this.prefix = prefix;
    this.names = names;
    this.onDecoded = onDecoded;
  }
}

/**
 * Ordered route table, Dancer2 style: the first registered route that matches wins.
 *
 * String patterns: static text; `:name` (one non-empty segment); `:name?` (the segment and the
 * slash before it are optional); `*` (one non-empty segment, into `splat`); `**` (the rest of
 * the path after its slash, may hold slashes, may be empty). Names are `[A-Za-z_][A-Za-z0-9_]*`.
 * Trailing slashes are significant and matching is case-sensitive.
 */
export class Router<H> {
  // Static routes by segment-decoded path, each list in registration order; a Map lookup is what
  // keeps the common case (fixed paths) free of regex work.
  readonly #static = new Map<string, Route<H>[]>();
  readonly #dynamic: Route<H>[] = [];
  /** Each route's pattern as written (a RegExp as `String(regex)`), by position: what traces name. */
  readonly #patterns: string[] = [];
  #count = 0;

  /**
   * Adds a route. `methods`: one method (`'GET'`), a list, or `'*'` for any; names are upper-cased.
   * A RegExp pattern is matched (unanchored, as written) against the decoded path: named groups
   * become params, unnamed groups splat entries. Throws a TypeError naming a bad pattern.
   * `options` are kept for the pipeline and returned with each match.
   */
  add(methods: string | readonly string[], pattern: string | RegExp, handler: H, options: RouteOptions = NO_ROUTE_OPTIONS): void {
    const list = typeof methods === 'string' ? [methods] : methods;
    if (list.length === 0 || list.some(m => typeof m !== 'string' || m === '')) {
      throw new TypeError(`Route ${String(pattern)}: methods must be '*', a method name or a non-empty list of them`);
    }
    const upper = list.map(m => m.toUpperCase());
    const set = upper.includes('*') ? null : new Set(upper.includes('GET') ? [...upper, 'HEAD'] : upper);
    const index = this.#count++;
    this.#patterns.push(String(pattern));
    if (pattern instanceof RegExp) {
      // g and y make exec() stateful (lastIndex), which would make matches depend on history.
      const regex = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      this.#dynamic.push(new Route(index, handler, options, set, regex, '', captureNames(regex), true));
      return;
    }
    const compiled = compile(pattern);
    if (compiled === null) {
      const key = pattern.replaceAll('%', '%25');
      const routes = this.#static.get(key) ?? [];
      routes.push(new Route(index, handler, options, set));
      this.#static.set(key, routes);
    } else {
      this.#dynamic.push(new Route(index, handler, options, set, compiled.regex, compiled.prefix, compiled.names));
    }
  }

  /**
   * The first route at position >= `from` that matches. HEAD also matches GET routes (an explicit
   * HEAD route wins if registered earlier). `method` is compared as given (Node upper-cases it).
   * `path` is the raw URL pathname; malformed percent-encoding throws HttpError 400.
   */
  match(method: string, path: string, from = 0): RouteMatch<H> | undefined {
    const encoded = path.includes('%');
    const key = encoded ? segmentDecode(path) : path;
    let found: Route<H> | undefined;
    const statics = this.#static.get(key);
    if (statics !== undefined) {
      for (let i = 0; i < statics.length; i++) {
        const route = statics[i]!;
        if (route.index >= from && accepts(route, method)) {
          found = route;
          break;
        }
      }
    }
    // Only dynamic routes registered before the static hit can beat it. (#count, not Infinity:
    // a limit that is sometimes a double deoptimizes this function.)
    const limit = found === undefined ? this.#count : found.index;
    let decoded: string | undefined;
    for (let i = 0; i < this.#dynamic.length; i++) {
      const route = this.#dynamic[i]!;
      if (route.index >= limit) break;
      if (route.index < from || !key.startsWith(route.prefix) || !accepts(route, method)) continue;
      const subject = route.onDecoded ? (decoded ??= unescapeSegments(key)) : key;
      const m = route.regex!.exec(subject);
      if (m !== null) return captures(route, m, encoded && !route.onDecoded);
    }
    return found && { handler: found.handler, options: found.options, params: Object.create(null), splat: [], index: found.index };
  }

  /** The pattern of the route at position `index` (RouteMatch.index), as it was added. */
  pattern(index: number): string {
    return this.#patterns[index]!;
  }

  /** Methods of the routes matching `path` (for 405 + Allow): sorted, unique, HEAD wherever GET. */
  allowedMethods(path: string): string[] {
    const key = path.includes('%') ? segmentDecode(path) : path;
    const decoded = unescapeSegments(key);
    const routes = [...(this.#static.get(key) ?? [])];
    for (const route of this.#dynamic) if (route.regex!.test(route.onDecoded ? decoded : key)) routes.push(route);
    // '*' routes add nothing: they match every method, so they never cause a 405.
    return [...new Set(routes.flatMap(route => [...(route.methods ?? [])]))].sort();
  }
}

function accepts(route: Route<unknown>, method: string): boolean {
  return route.methods === null || route.methods.has(method);
}

function captures<H>(route: Route<H>, m: RegExpExecArray, unescape: boolean): RouteMatch<H> {
  const params: Record<string, string> = Object.create(null);
  const splat: string[] = [];
  for (let i = 0; i < route.names.length; i++) {
    const raw = m[i + 1];
    const value = raw !== undefined && unescape ? unescapeSegments(raw) : raw;
    const name = route.names[i]!;
    if (name === null) splat.push(value ?? '');
    else if (value !== undefined) params[name] = value;
  }
  return { handler: route.handler, options: route.options, params, splat, index: route.index };
}

// A parameter segment:  ":" name [ "?" ]   with  name = [A-Za-z_] *[A-Za-z0-9_]
const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)(\?)?$/;
// Characters with a meaning in RegExp syntax, escaped so static text matches literally.
const REGEX_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/** A string pattern as a regex on the segment-decoded path, or null when it is static. */
function compile(pattern: string): { regex: RegExp; prefix: string; names: (string | null)[] } | null {
  const bad = (why: string) => new TypeError(`Invalid route pattern ${JSON.stringify(pattern)}: ${why}`);
  if (!pattern.startsWith('/')) throw bad('it must start with "/"');
  const names: (string | null)[] = [];
  let source = '';
  let literal = '';
  let prefix: string | undefined;
  let allOptional = true;
  for (const segment of pattern.slice(1).split('/')) {
    const param = PARAM.exec(segment);
    if (param !== null) {
      const name = param[1]!;
      if (names.includes(name)) throw bad(`the parameter ":${name}" appears twice`);
      names.push(name);
      prefix ??= literal;
      source += param[2] ? '(?:/([^/]+))?' : '/([^/]+)';
      allOptional &&= param[2] !== undefined;
      continue;
    }
    allOptional = false;
    if (segment.startsWith(':')) throw bad(`":" must be followed by a name matching [A-Za-z_][A-Za-z0-9_]*, as in "/users/:id"`);
    if (segment === '*' || segment === '**') {
      names.push(null);
      prefix ??= literal;
      source += segment === '*' ? '/([^/]+)' : '/(.*)';
    } else if (segment.includes('*')) {
      throw bad(`"*" and "**" must be a whole segment, as in "/files/**"`);
    } else {
      source += '/' + segment.replaceAll('%', '%25').replace(REGEX_SPECIAL, '\\$&');
      literal += '/' + segment.replaceAll('%', '%25');
    }
  }
  if (names.length === 0) return null;
  // `/:lang?` would otherwise match only the empty path, which never arrives: let it match "/".
  const regex = new RegExp(allOptional ? `^(?:${source}|/)$` : `^${source}$`);
  return { regex, prefix: prefix ?? '', names };
}

/** Percent-decodes each segment, re-encoding only the `%` and `/` it holds (see the file header). */
function segmentDecode(path: string): string {
  // Walks from one '%' to the next, so segments without one are copied, not split and re-joined.
  let out = '';
  let done = 0;
  for (let pct = path.indexOf('%'); pct !== -1; pct = path.indexOf('%', done)) {
    const start = path.lastIndexOf('/', pct) + 1;
    const slash = path.indexOf('/', pct);
    const end = slash === -1 ? path.length : slash;
    out += path.slice(done, start) + decodeSegment(path.slice(start, end));
    done = end;
  }
  return out + path.slice(done);
}

// What must stay encoded inside a decoded segment:  "%" | "/"
const SEGMENT_SPECIAL = /[%/]/g;

function decodeSegment(segment: string): string {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch (cause) {
    throw new HttpError(400, 'Malformed percent-encoding in the URL path', { cause });
  }
  if (!text.includes('%') && !text.includes('/')) return text;
  return text.replace(SEGMENT_SPECIAL, c => (c === '%' ? '%25' : '%2F'));
}

// The two escapes segmentDecode writes:  "%25" (a "%") | "%2F" (a "/" inside a segment)
const SEGMENT_ESCAPE = /%2[5F]/g;

function unescapeSegments(text: string): string {
  return text.includes('%') ? text.replace(SEGMENT_ESCAPE, e => (e === '%25' ? '%' : '/')) : text;
}

/** For each capture group of `regex`, in order: its name, or null when it is unnamed. */
function captureNames(regex: RegExp): (string | null)[] {
  const src = regex.source;
  const nestedClasses = regex.flags.includes('v');
  const names: (string | null)[] = [];
  let classDepth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[' && (classDepth === 0 || nestedClasses)) classDepth++;
    if (c === ']' && classDepth > 0) classDepth--;
    if (c !== '(' || classDepth > 0) continue;
    // A group opener:  "(" (capture) | "(?<" name ">" (named) | "(?:" "(?=" "(?!" "(?<=" "(?<!" (none)
    if (src[i + 1] !== '?') names.push(null);
    else if (src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') names.push(src.slice(i + 3, src.indexOf('>', i)));
  }
  return names;
}
