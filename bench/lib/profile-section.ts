/**
 * The "What the profiles show" section of results.md, from bench/profile.json (written by
 * `npm run bench:profile`): per route, the server's busy CPU split by who spends it, and what is
 * left between Quickstep and the hand-written servers, with why it stays. Empty when no profile
 * was taken.
 */
import { existsSync, readFileSync } from 'node:fs';

interface RouteProfile { label: string; path: string; server?: string; micros: number; owners: Record<string, number> }
/** What one profiled route adds to another (bench/profile.ts `differences`). */
export interface Difference { label: string; against: string; micros: number; owners: Record<string, number>; functions: [string, number][] }
export interface Profiles { date: string; node: string; routes: RouteProfile[]; differences?: Difference[] }

/** bench/profile.json as `npm run bench:profile` wrote it; undefined when no profile was taken. */
export function readProfiles(file: URL): Profiles | undefined {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Profiles : undefined;
}

export const OWNERS = ['Quickstep (src/)', 'ioredis', 'Node: HTTP, sockets, timers, promises (incl. the write syscalls)', 'GC'];
export const SHORT: Record<string, string> = { 'Node: HTTP, sockets, timers, promises (incl. the write syscalls)': 'Node HTTP + sockets' };

/**
 * Why each part of Quickstep's own cost stays, by the function the profile names (its short
 * name): what it buys a user that the hand-written servers do not give. A function not listed
 * here is shown with its figure and no reason.
 */
const REASONS: [RegExp, string][] = [
  [/^retrieve \(memory\)$/, 'copies the stored session into fresh objects (a JSON parse), so what a route does to what it read never changes the store, and slides the idle expiry'],
  [/^flush \(memory\)$/, 'applies the change log and keeps the session as JSON, so `max_bytes` counts real bytes and nothing shares objects with a request'],
  [/^#live \(memory\)$/, 'the idle-expiry check of the entry it finds'],
  [/^#touch \(memory\)$/, 'moves the entry to the recent end of the LRU that `max_sessions`/`max_bytes` evict from'],
  [/^#store \(memory\)$/, 'the size bound and the owner index of the write'],
  [/^extractMeta \(session-meta\)$/, 'reads the meta every session carries (creation for `absolute_duration`, owner, CSRF token, format) and hides it from the app'],
  [/^readMeta \(session-meta\)$/, 'the meta check, as above'],
  [/^AsyncContextFrame$/, 'the keywords\' AsyncLocalStorage frame (`session()` without `ctx`); none with `keywords: false`'],
  [/^writeResponse \(respond\)$/, 'the response: `Cache-Control: no-store` on a private response, the length, the cookie when one is due'],
  [/^_storeHeader$/, 'Node writing those headers'],
  [/^find \(public-files\)$/, 'the public folder\'s one Set lookup before the routes'],
  [/^match \(router\)$/, 'the router'],
  [/^defineOwn \(session-json\)$/, 'sets a value as an own property (assignment; `__proto__` defined)'],
  [/^applyChange \(apply-change\)$/, 'applies the change log (set, delete, increment, push) key by key, so concurrent writers do not overwrite each other\'s keys'],
  [/^commit \(request-session\)$/, 'the one flush per request, after the route'],
  [/^retrieve \(redis\)$/, 'the read script\'s reply: the session and its TTL slid without cutting a remembered one'],
  [/^_clearTimers \(Command\)$/, 'ioredis\'s timer per command for `command_timeout`: what keeps a 503 within it when Redis is slow but alive'],
  [/^execute \(Script\)$/, 'ioredis\'s EVALSHA path: the read and the write are Lua scripts (atomic change log, TTL rules)'],
  [/^hash$/, '`hash_ids`: a SHA-256 of the id per store operation, so a dump of the store holds no usable id'],
  [/^openCookie \(cookie\)$|^#open \(sealed\)$|^sealCookie \(cookie\)$/, 'the Cookie engine\'s seal (AES-256-GCM with the meta inside)'],
  [/^storedJson \(session\)$|^metaJson \(session-meta\)$/, 'the sealed session\'s JSON, meta included'],
];
export const reasonFor = (name: string): string | undefined => REASONS.find(([pattern]) => pattern.test(name))?.[1];

/**
 * What is left between Quickstep and the hand-written servers, and why it stays: per route, the
 * functions of Quickstep's own code that cost most over the baseline (profile.json's
 * differences), each with its reason; then what no single function says.
 */
function left(profiles: Profiles, json: JsonCost[]): string[] {
  const lines: string[] = [];
  for (const d of (profiles.differences ?? []).filter(d => !d.label.includes('secure posture'))) {
    const own = d.owners['Quickstep (src/)'] ?? 0;
    const parts = d.functions.filter(([name, micros]) => micros >= 0.15 && reasonFor(shortName(name)) !== undefined)
      .map(([name, micros]) => `\`${shortName(name)}\` ${micros.toFixed(2)} µs (${reasonFor(shortName(name))})`);
    const total = d.micros >= 0 ? `${d.micros.toFixed(1)} µs more than the ${d.against} in all` : `${(-d.micros).toFixed(1)} µs less than the ${d.against} in all`;
    lines.push(`- **${d.label}**: Quickstep's own code is ${own.toFixed(1)} µs per request (${total}).` +
      (parts.length > 0 ? ` The largest parts: ${parts.join('; ')}.` : ''));
  }
  return [...lines,
    '- **No one function** is more than about 1 µs: removing any single one moves a Memory ratio by ' +
      'at most 0.05. What the hand-written Map skips is what those functions are: it shares its objects ' +
      'with the route, never expires or bounds a session, carries no meta, sends no `no-store`; with ' +
      '`keywords: false` the AsyncLocalStorage frame goes too (its own column in the summary).',
    ...(json.length === 2 ? [jsonLine(json)] : []),
    '- **Promises** (callgrind, `npm run bench:instructions -- --keep` and `callgrind_annotate`, Node 26, 2026-12-07): ' +
      'of the 86.9k instructions of a Memory write (a Map write: about 51k), about 9k are the promise machinery of the ' +
      'store calls: FulfillPromise 1.4k, RunMicrotasks 1.4k, ResolvePromise 0.7k, PerformPromiseThen 0.5k, and 4.2k in ' +
      'V8\'s generic property lookup, most of it the `then` lookup each promise resolved with an object makes (about 340 ' +
      'instructions each). The engine contract is asynchronous so that Redis and Memory are one ' +
      'contract; a read keyword returns a SessionRead, a Promise subclass that `await` must call (that is how an ' +
      'un-awaited read fails closed), which costs a species and `then` lookup per read (about 3.9k instructions of a ' +
      'Memory read before the keyword\'s own `then` and the store call\'s continuation were folded into the ones beside ' +
      'them, 1–4% less work per read since).',
    '- **Node\'s HTTP and socket work** (the `writeUtf8String` socket write above all) is the same work ' +
      'the hand-written servers do, and most of every route. A negative figure beside it in the ' +
      'difference table is the baseline\'s own way of writing (chunked, `writev`), not a saving of Quickstep\'s.',
    '- **Totals against parts**: each route is profiled for 9 s right beside its baseline, one after ' +
      'the other, so a total difference carries the machine\'s drift between the two (this VM\'s speed drifts ' +
      'by up to 2x from one minute to the next, and a Redis route\'s total moved by 10 µs between two ' +
      'profile runs of the same code), while Quickstep\'s own part moved by about 1 µs: quote the bench\'s ' +
      'ratios for the size of a gap, and these parts for what it is made of.',
    '- **Redis**: a Quickstep read and write are Lua scripts (EVALSHA: the read slides the TTL without ' +
      'cutting a remembered session; the write applies the change log atomically), where the hand-written ' +
      'server sends a plain GET and SET; a request that only writes is one script in all, a login two (the ' +
      'read, and one script that moves the id and writes).',
    '- **The secure posture**: the rows "without X" of the Secure defaults table say which part costs ' +
      'what. `login` is the largest: a logged-in session carries its owner, login time and device, ' +
      'three times the JSON of an anonymous one (193 bytes against 66 in the bench), parsed on each read and written on each ' +
      'write, and each write records the device (`__quickstep_device`, what `userSessions` shows). Not ' +
      'recording the device at all measured 5% of a posture write on Memory and 1% on Redis (bench ' +
      '--compare, 5 rounds, 2026-12-07): it stays, so `lastSeenAt` is exact. `hash_ids` is a SHA-256 per ' +
      'store operation (`hash` in the posture table; a write reuses its read\'s, so a read-and-write hashes ' +
      'once). The posture table above names the functions; its totals carry the drift said above.',
  ];
}

/** What JSON costs on the runtime, from lib/probe.ts (`probe json BYTES`): µs per call for a session of `bytes`. */
export interface JsonCost { bytes: number; parseMicros: number; stringifyMicros: number }

/**
 * JSON's share of a route, measured at the bench's own session sizes (an anonymous session, and
 * a logged-in one of the secure posture): a read parses the session once; a Memory write parses
 * it twice (the request's copy, then the stored one it applies the change log to) and serializes
 * it once; a Redis write sends only the changed values and Redis applies them.
 */
function jsonLine([anonymous, loggedIn]: JsonCost[]): string {
  const read = (c: JsonCost): string => c.parseMicros.toFixed(2);
  const write = (c: JsonCost): string => (2 * c.parseMicros + c.stringifyMicros).toFixed(2);
  return `- **JSON** (lib/probe.ts, the same runtime): for the bench's ${anonymous!.bytes} B session a JSON.parse costs ${read(anonymous!)} µs and a ` +
    `JSON.stringify ${anonymous!.stringifyMicros.toFixed(2)} µs, so a read's one parse is ${read(anonymous!)} µs and a Memory write's two parses and one ` +
    `stringify ${write(anonymous!)} µs; for the posture's logged-in ${loggedIn!.bytes} B session ${read(loggedIn!)} and ${write(loggedIn!)} µs. ` +
    'JSON is a small part of a small session\'s gap; it takes over from about 10 KB (the Session size curve).';
}

/** A function's name as profile.md gives it, shortened for a table cell: `name (file)`. */
export const shortName = (name: string): string => name.replace(/ \((?:src|node_modules)\/(?:.*\/)?([^/:]+)\.[jt]s:\d+\)$/, ' ($1)').replace(/ \(node:[^)]*\)$/, '');

/**
 * What each Quickstep route adds to its hand-written baseline, and what the secure posture adds
 * to the minimal route, from the same profile run: µs per request by who spends it, and the
 * functions that grew most.
 */
function differenceTables(profiles: Profiles): string[] {
  const differences = profiles.differences ?? [];
  if (differences.length === 0) return [];
  const table = (rows: Difference[], title: string): string[] => rows.length === 0 ? [] : [title, '',
    `| route | µs / req more | ${OWNERS.map(o => SHORT[o] ?? o).join(' | ')} | the rest | the functions that grew most (µs) |`,
    `|---|---:|${OWNERS.map(() => '---:').join('|')}|---:|---|`,
    ...rows.map(d => {
      const known = OWNERS.reduce((sum, o) => sum + (d.owners[o] ?? 0), 0);
      const top = d.functions.slice(0, 5).map(([name, micros]) => `\`${shortName(name).replaceAll('|', '\\|')}\` ${micros.toFixed(2)}`).join(', ');
      return `| ${d.label} | ${d.micros.toFixed(1)} | ${OWNERS.map(o => (d.owners[o] ?? 0).toFixed(1)).join(' | ')} | ${(d.micros - known).toFixed(1)} | ${top} |`;
    }), ''];
  const posture = differences.filter(d => d.label.includes('secure posture'));
  return [
    ...table(differences.filter(d => !posture.includes(d)), 'What each route adds to its hand-written baseline (both profiled in the same run, start-up left out; a negative figure is work the baseline does and Quickstep does not, such as its chunked `writev` against Quickstep\'s one `write`):'),
    ...table(posture, 'What the secure posture adds to the minimal route (same run):'),
  ];
}

export function profileSection(profiles: Profiles | undefined, json: JsonCost[] = []): string[] {
  if (profiles === undefined) return [];
  const lines = ['## What the profiles show', '',
    `From \`npm run bench:profile\` (bench/profile.md has the functions), ${profiles.date.slice(0, 10)}, node ${profiles.node}: ` +
      'the server\'s busy CPU per request under the same load, by who spends it (µs per request, with the profiler\'s own cost).', '',
    `| route | busy µs / req | ${OWNERS.map(o => SHORT[o] ?? o).join(' | ')} | the rest |`,
    `|---|---:|${OWNERS.map(() => '---:').join('|')}|---:|`];
  for (const route of profiles.routes.filter(r => (r.server ?? 'quickstep') === 'quickstep')) {
    const known = OWNERS.reduce((sum, o) => sum + (route.owners[o] ?? 0), 0);
    const cell = (micros: number): string => `${micros.toFixed(1)} (${Math.round((100 * micros) / route.micros)}%)`;
    lines.push(`| ${route.label} | ${route.micros.toFixed(1)} | ${OWNERS.map(o => cell(route.owners[o] ?? 0)).join(' | ')} | ${cell(route.micros - known)} |`);
  }
  lines.push('', ...differenceTables(profiles));
  lines.push('What is left between Quickstep and the hand-written servers, and why it stays:', '', ...left(profiles, json), '');
  return lines;
}
