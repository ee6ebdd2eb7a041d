/**
 * The "What the profiles show" section of results.md, from bench/profile.json (written by
 * `npm run bench:profile`): per route, the server's busy CPU split by who spends it, and what is
 * left between Quickstep and the hand-written servers, with why it stays. Empty when no profile
 * was taken.
 */
import { existsSync, readFileSync } from 'node:fs';

interface RouteProfile { label: string; path: string; micros: number; owners: Record<string, number> }
interface Profiles { date: string; node: string; routes: RouteProfile[] }

const OWNERS = ['Quickstep (src/)', 'ioredis', 'Node: HTTP, sockets, timers, promises (incl. the write syscalls)', 'GC'];
const SHORT: Record<string, string> = { 'Node: HTTP, sockets, timers, promises (incl. the write syscalls)': 'Node HTTP + sockets' };

/** What the profiles show is left, and why it stays (read off the Node 26 profiles of 2026-12-07). */
const left = (own: string): string[] => [
  `- **Quickstep's own code** is ${own} of the busy CPU (3.0 µs of a Memory read, 5.7 µs of a Memory ` +
    'write, about 4.5 µs of a Redis read or write). Its largest parts are the Memory engine\'s JSON copies ' +
    '(a parse per read, a parse and a stringify per write): they keep what a request does to its objects ' +
    'out of the store and make `max_bytes` exact, where the hand-written Map shares its objects and checks ' +
    'nothing; and the keywords (`session()` without `ctx`), whose AsyncLocalStorage frame every request ' +
    'enters: the `keywords: false` column is the same app without it.',
  '- **Node\'s HTTP and socket work** (the `writeUtf8String` socket writes above all) is the same work the ' +
    'hand-written servers do, and most of every route: 11 of the 17 µs of a Memory read. Quickstep batches ' +
    'its responses with `setImmediate`, and since 2026-12-07 the Redis commands of one event-loop turn ' +
    'leave in one socket write (redis/write-batch.ts): what the hand-written server gets from ioredis\'s ' +
    'auto-pipelining, worth about 11 µs of a Redis read and 14 µs of a write (bench --compare).',
  '- **ioredis**: a Quickstep read and write are Lua scripts (EVALSHA: the read also slides the TTL ' +
    'without cutting a remembered session; the write applies the change log atomically), which cost ' +
    'ioredis more per call than a plain GET or SET (its Script path, its RESP decoder), and every ' +
    'command carries ioredis\'s own timer for `command_timeout` (`_clearTimers`, about 2% of the busy CPU): ' +
    'that timer is what keeps a 503 within `command_timeout` when Redis is slow but alive, so it stays. A ' +
    'request that only writes is one script in all (flushUnread), fewer round trips than the hand-written ' +
    'read-modify-write; a login is two (the read, and one script that moves the id and writes).',
  '- **The secure posture** costs its writes most: a logged-in session\'s write also records the device ' +
    '(`__quickstep_device`: user agent, address, time, what `userSessions` shows), with `trust_proxy` the ' +
    'client address is read from `X-Forwarded-For`, `hash_ids` hashes the id once per store operation ' +
    '(`hash`, 2–4% of the busy CPU), and the session it parses and writes is larger (owner, login time, ' +
    'device). Not yet explained: in the profiles (one 6 s sample each) the posture\'s Node HTTP share ' +
    'grows as much as its own code does (Redis read 19.4 → 31.9 µs), which its responses (the same ' +
    'headers but the cookie name) do not account for, while the bench\'s medians put the posture\'s read ' +
    'within 4–16% of the minimal one; the rounds of one scenario spread by up to ±30% on this VM.',
];

export function profileSection(file: URL): string[] {
  if (!existsSync(file)) return [];
  const profiles = JSON.parse(readFileSync(file, 'utf8')) as Profiles;
  const lines = ['## What the profiles show', '',
    `From \`npm run bench:profile\` (bench/profile.md has the functions), ${profiles.date.slice(0, 10)}, node ${profiles.node}: ` +
      'the server\'s busy CPU per request under the same load, by who spends it (µs per request, with the profiler\'s own cost).', '',
    `| route | busy µs / req | ${OWNERS.map(o => SHORT[o] ?? o).join(' | ')} | the rest |`,
    `|---|---:|${OWNERS.map(() => '---:').join('|')}|---:|`];
  for (const route of profiles.routes) {
    const known = OWNERS.reduce((sum, o) => sum + (route.owners[o] ?? 0), 0);
    const cell = (micros: number): string => `${micros.toFixed(1)} (${Math.round((100 * micros) / route.micros)}%)`;
    lines.push(`| ${route.label} | ${route.micros.toFixed(1)} | ${OWNERS.map(o => cell(route.owners[o] ?? 0)).join(' | ')} | ${cell(route.micros - known)} |`);
  }
  const shares = profiles.routes.map(r => Math.round((100 * (r.owners['Quickstep (src/)'] ?? 0)) / r.micros));
  lines.push('', 'What is left between Quickstep and the hand-written servers, and why it stays:', '', ...left(`${Math.min(...shares)}–${Math.max(...shares)}%`), '');
  return lines;
}
