/**
 * What the bench measures: the servers (one process each) and the scenarios run against them,
 * each with the baseline its ratios are taken against and the DESIGN §8 target where there is one.
 * Every Node server runs once per runtime (Node 26 first, the headline, then Node 24), and each
 * runtime's scenarios are divided by the same runtime's baselines. The Perl peer (Dancer2 on
 * Starman) runs once, divided by the first runtime's baselines. Scale scenarios and the secure
 * posture run on the first runtime only (the one the figures are quoted for), to keep a full run
 * within ~25 minutes. Targets are shown on Node 26's rows, the chart draws the first runtime's.
 */
import { fileURLToPath } from 'node:url';
import { BENCH_MAJORS, type Runtime } from './lib/runtimes.ts';

/** One server process. */
export interface ServerSpec {
  name: string;
  /** `node`: a TypeScript file in bench/servers/ (or an absolute path) run through tsx on `runtime`; `starman`: a PSGI app there. */
  kind: 'node' | 'starman';
  file: string;
  /** `cookie`: no server store, the session sealed in the cookie (divided by the hand-written AES-GCM cookie). */
  store: 'memory' | 'redis' | 'cookie' | 'none';
  runtime?: Runtime;
  /** More environment for the server process (BENCH_KEYWORDS, BENCH_SESSION_BYTES, BENCH_PREFILL, ...). */
  env?: Record<string, string>;
  /** Redis database the server uses, bulk-loaded with `prefill` sessions before it starts. */
  redisDb?: number;
  /** Sessions stored before the measured ones (Redis: bulk load by the runner; Memory: BENCH_PREFILL). */
  prefill?: number;
  /** Headers sent with every request, the runner's session-making ones included (X-Forwarded-Proto, ...). */
  headers?: Record<string, string>;
  /** The GET route the runner makes its sessions with; `/write` unless set (`/login` for the secure posture). */
  sessionPath?: string;
}

export type Route = 'untouched' | 'read' | 'write';

/** One wrk target. */
export interface Scenario {
  name: string;
  server: ServerSpec;
  path: '/hello' | '/read' | '/write' | '/set';
  /** Name of the scenario this one is divided by; none for a baseline. */
  baseline?: string;
  target?: string;
  /** The results table it is shown in (`Node 26`, `Session size (Node 26)`, ...). */
  section: string;
  /** Drawn in the SVG chart (first runtime only) as this framework's bar for this route. */
  chart?: { label: string; route: Route };
}

/** What a run includes: the main tables (`--part main`), the scale ones (`--part scale`), or both. */
export interface Parts { main: boolean; scale: boolean }

export const PATHS: Record<Route, Scenario['path']> = { untouched: '/hello', read: '/read', write: '/write' };

/**
 * The secure posture's server (servers/quickstep.ts with BENCH_POSTURE=secure), the headers its
 * requests carry as a TLS proxy and a same-origin browser send them, and the login its sessions
 * are made with: for every runner that measures the posture (run.ts, profile.ts, instructions.ts).
 */
export const SECURE_POSTURE = {
  env: { BENCH_POSTURE: 'secure' },
  headers: { 'X-Forwarded-Proto': 'https', 'Sec-Fetch-Site': 'same-origin' },
  sessionPath: '/login',
};

/** A server file's path: a name in bench/servers/, or an absolute path (a --compare checkout's). */
export const serverFile = (file: string): string => (file.startsWith('/') ? file : fileURLToPath(new URL(`servers/${file}`, import.meta.url)));

/** Sizes of the session-size scenarios, in bytes of session JSON. */
export const SESSION_SIZES = [100, 1_000, 10_000, 100_000];
/** Stored-session counts of the store-size scenarios. */
export const STORED_COUNTS = [1_000, 10_000, 100_000, 1_000_000];

export const sizeLabel = (bytes: number): string => (bytes >= 1000 ? `${bytes / 1000} KB` : `${bytes} B`);
const countLabel = (count: number): string => count.toLocaleString('en-US');
/** The Quickstep bench server of the `--compare` checkout. */
export const compareServer = (compare: { dir: string }): string => `${compare.dir.replace(/\/$/, '')}/bench/servers/quickstep.ts`;

/**
 * Another checkout to measure beside this one (`--compare DIR`), labelled by its folder's name;
 * `posture`: its bench server knows the secure posture (BENCH_POSTURE), which servers from before
 * the posture existed do not, so only their Memory and Redis trios run.
 */
export interface Compare { dir: string; label: string; posture: boolean }

/**
 * `compare`: another checkout whose Quickstep servers run beside this one's (`--compare DIR`).
 * `postureWithout`: parts of the secure posture to leave out, one variant each (`--posture-without
 * hash_ids;login,proxy`: two variants), each divided by the whole posture, so what one part costs
 * is measured in the same run (servers/quickstep.ts reads BENCH_POSTURE_WITHOUT).
 */
export function buildScenarios(runtimes: Runtime[], parts: Parts, compare?: Compare, postureWithout: string[] = []): Scenario[] {
  const list: Scenario[] = [];
  const node = (runtime: Runtime, name: string, file: string, store: ServerSpec['store'], more: Partial<ServerSpec> = {}): ServerSpec =>
    ({ name: `${name} (${runtime.label})`, kind: 'node', file, store, runtime, ...more });

  for (const [index, runtime] of runtimes.entries()) {
    const L = runtime.label;
    const first = index === 0;
    // Targets apply on the headline runtime (Node 26); the chart is the first runtime's.
    const quoted = runtime.major === BENCH_MAJORS[0];
    const BARE = `${L} bare node:http hello`;
    const REDIS = { read: `${L} hand-written Redis read`, write: `${L} hand-written Redis write` };
    const MAP = { read: `${L} hand-written Map read`, write: `${L} hand-written Map write` };
    const COOKIE = { read: `${L} hand-written AES-GCM cookie read`, write: `${L} hand-written AES-GCM cookie write` };

    /** The untouched / read / write trio of one framework on one store, with its baselines. */
    const trio = (label: string, spec: ServerSpec, section: string, chart: string | undefined, targets?: [string, string, string]): void => {
      const base = spec.store === 'redis' ? REDIS : spec.store === 'cookie' ? COOKIE : MAP;
      (['untouched', 'read', 'write'] as const).forEach((route, i) => {
        list.push({
          name: `${label} ${route}`, server: spec, path: PATHS[route], section,
          baseline: route === 'untouched' ? BARE : base[route],
          ...(targets === undefined || !quoted ? {} : { target: targets[i] }),
          ...(chart === undefined || !first ? {} : { chart: { label: chart, route } }),
        });
      });
    };
    const bare = node(runtime, 'bare', 'bare.ts', 'none');
    const handRedis = node(runtime, 'hand-redis', 'hand-redis.ts', 'redis');
    const handMap = node(runtime, 'hand-map', 'hand-map.ts', 'memory');
    const handCookie = node(runtime, 'hand-cookie', 'hand-cookie.ts', 'cookie');
    const MEMORY_TARGETS: [string, string, string] = ['≥1.0x', '≥0.9x', '≥0.9x'];
    const REDIS_TARGETS: [string, string, string] = ['≥1.0x, 0 cmds', '≥0.9x, 1 cmd', '≥0.85x, ≤2 cmds'];
    const COOKIE_TARGETS: [string, string, string] = ['≥1.0x', '≥0.9x', '≥0.7x'];

    if (parts.main) {
      list.push({ name: BARE, server: bare, path: '/hello', section: L });
      list.push({ name: REDIS.read, server: handRedis, path: '/read', section: L });
      list.push({ name: REDIS.write, server: handRedis, path: '/write', section: L });
      list.push({ name: MAP.read, server: handMap, path: '/read', section: L });
      list.push({ name: MAP.write, server: handMap, path: '/write', section: L });
      list.push({ name: COOKIE.read, server: handCookie, path: '/read', section: L });
      list.push({ name: COOKIE.write, server: handCookie, path: '/write', section: L });
    }
    if (parts.main) {
      trio(`${L} fastify+Redis`, node(runtime, 'fastify-redis', 'fastify.ts', 'redis'), L, 'fastify');
      trio(`${L} express+Redis`, node(runtime, 'express-redis', 'express.ts', 'redis'), L, 'express');
      // Hono three ways, so the table separates the framework from its session layer: with no
      // session middleware (read/write on a Map in the route, divided by the hand-written Map),
      // with hono-sessions (the most used; it opens its cookie on every request, /hello included),
      // and with @hono/session (Hono's own; lazy, on Redis storage and sealed in the cookie).
      trio(`${L} Hono, no session middleware`, node(runtime, 'hono-bare', 'hono-bare.ts', 'memory'), L, 'Hono, no session');
      trio(`${L} Hono+Redis`, node(runtime, 'hono-redis', 'hono.ts', 'redis'), L, 'Hono + hono-sessions');
      trio(`${L} Hono+@hono/session+Redis`, node(runtime, 'hono-session-redis', 'hono-session.ts', 'redis'), L, 'Hono + @hono/session');
      trio(`${L} Hono+@hono/session Cookie`, node(runtime, 'hono-session-cookie', 'hono-session.ts', 'cookie'), L, undefined);
      if (first) {
        // The seed's own stack, once: Perl does not depend on the Node runtime.
        trio('Dancer2+Starman+Redis', { name: 'dancer2-starman', kind: 'starman', file: 'dancer2/app.psgi', store: 'redis' }, L, 'Dancer2');
      }
      trio(`${L} Quickstep Memory`, node(runtime, 'quickstep-memory', 'quickstep.ts', 'memory'), L, 'Quickstep Memory', MEMORY_TARGETS);
      trio(`${L} Quickstep Redis`, node(runtime, 'quickstep-redis', 'quickstep.ts', 'redis'), L, 'Quickstep Redis', REDIS_TARGETS);
      // No store at all: every read opens an AES-256-GCM seal, every write seals a new one.
      // Divided by the hand-written AES-GCM cookie server, the Cookie engine's own limit.
      trio(`${L} Quickstep Cookie`, node(runtime, 'quickstep-cookie', 'quickstep.ts', 'cookie'), L, 'Quickstep Cookie', COOKIE_TARGETS);
      // `session(key, value)` with no read (engine.flushUnread): one round trip on Redis, against
      // the hand-written read-modify-write, the least a server that keeps the other keys can do.
      for (const [engine, store, base] of [['Memory', 'memory', MAP.write], ['Redis', 'redis', REDIS.write]] as const) {
        const spec = node(runtime, `quickstep-${store}`, 'quickstep.ts', store);
        list.push({ name: `${L} Quickstep ${engine} write-only`, server: spec, path: '/set', section: L, baseline: base });
      }
      // The same app with `keywords: false`: ctx methods only, so AsyncLocalStorage never runs;
      // the difference is what the keywords cost (much more on Node 20 than on Node 24).
      trio(`${L} Quickstep Memory, keywords off`, node(runtime, 'quickstep-memory-ctx', 'quickstep.ts', 'memory', { env: { BENCH_KEYWORDS: 'off' } }), L, undefined, MEMORY_TARGETS);
      trio(`${L} Quickstep Redis, keywords off`, node(runtime, 'quickstep-redis-ctx', 'quickstep.ts', 'redis', { env: { BENCH_KEYWORDS: 'off' } }), L, undefined, REDIS_TARGETS);
      if (compare !== undefined && first) {
        // `--compare DIR`: Quickstep's trios once more, served by another checkout, so a change is
        // measured against the code before it in the same run.
        const file = compareServer(compare);
        trio(`${L} Quickstep Memory (${compare.label})`, node(runtime, `quickstep-memory-${compare.label}`, file, 'memory'), L, undefined);
        trio(`${L} Quickstep Redis (${compare.label})`, node(runtime, `quickstep-redis-${compare.label}`, file, 'redis'), L, undefined);
      }
    }

    if (parts.main && first) {
      // The secure defaults cost: the posture a production app gets (servers/quickstep.ts,
      // BENCH_POSTURE=secure: hash_ids, CSRF, every session logged in so the owner index is
      // written, the __Host- cookie behind a trusted proxy's X-Forwarded-Proto: https, no-store,
      // the Sec-Fetch-Site lock), each route divided by the minimal Quickstep of the same store.
      const section = `Secure defaults cost (${L})`;
      const secure = (name: string, store: ServerSpec['store'], file = 'quickstep.ts', without?: string): ServerSpec => node(runtime, name, file, store, {
        ...SECURE_POSTURE,
        env: { ...SECURE_POSTURE.env, ...(without === undefined ? {} : { BENCH_POSTURE_WITHOUT: without }) },
      });
      for (const [engine, store] of [['Memory', 'memory'], ['Redis', 'redis']] as const) {
        const spec = secure(`quickstep-${store}-secure`, store);
        for (const route of ['untouched', 'read', 'write'] as const) {
          const whole = `${L} Quickstep ${engine}, secure posture ${route}`;
          list.push({ name: whole, server: spec, path: PATHS[route], section, baseline: `${L} Quickstep ${engine} ${route}`, target: '≥0.91x (within 10%)' });
          if (compare !== undefined && compare.posture) {
            const other = secure(`quickstep-${store}-secure-${compare.label}`, store, compareServer(compare));
            list.push({ name: `${whole} (${compare.label})`, server: other, path: PATHS[route], section, baseline: `${L} Quickstep ${engine} ${route}` });
          }
          for (const without of postureWithout) {
            const variant = secure(`quickstep-${store}-secure-without-${without}`, store, 'quickstep.ts', without);
            list.push({ name: `${whole} without ${without}`, server: variant, path: PATHS[route], section, baseline: whole });
          }
        }
      }
    }

    if (parts.scale && first) {
      // Session size: the hand-written baselines hold the same sessions, so the ratio says what
      // Quickstep adds per byte; the size table beside it shows the cost per KB.
      const section = `Session size (${L})`;
      for (const bytes of SESSION_SIZES) {
        const size = sizeLabel(bytes);
        const env = { BENCH_SESSION_BYTES: String(bytes) };
        const servers = {
          'hand-written Map': node(runtime, `hand-map-${size}`, 'hand-map.ts', 'memory', { env }),
          'hand-written Redis': node(runtime, `hand-redis-${size}`, 'hand-redis.ts', 'redis', { env }),
          'Quickstep Memory': node(runtime, `quickstep-memory-${size}`, 'quickstep.ts', 'memory', { env }),
          'Quickstep Redis': node(runtime, `quickstep-redis-${size}`, 'quickstep.ts', 'redis', { env }),
        };
        for (const route of ['read', 'write'] as const) {
          for (const [label, spec] of Object.entries(servers)) {
            const base = ({ 'Quickstep Memory': 'hand-written Map', 'Quickstep Redis': 'hand-written Redis' } as Record<string, string>)[label];
            list.push({
              name: `${L} ${label} ${route}, ${size} session`, server: spec, path: PATHS[route], section,
              ...(base === undefined ? {} : { baseline: `${L} ${base} ${route}, ${size} session` }),
            });
          }
        }
      }
      // Stored sessions: the same app with 1,000 to 1,000,000 other sessions stored; each row is
      // divided by the 1,000 row, so flat = 1.00x (bench/growth/curves.ts draws the curve).
      const stored = `Stored sessions (${L})`;
      for (const [engine, store] of [['Memory', 'memory'], ['Redis', 'redis']] as const) {
        for (const route of ['read', 'write'] as const) {
          for (const [i, count] of STORED_COUNTS.entries()) {
            const more: Partial<ServerSpec> = store === 'memory'
              ? { prefill: count, env: { BENCH_PREFILL: String(count) } }
              : { prefill: count, redisDb: 1 + i, env: { BENCH_REDIS_DB: String(1 + i) } };
            const spec = node(runtime, `quickstep-${store}-${count}-stored`, 'quickstep.ts', store, more);
            const name = (n: number): string => `${L} Quickstep ${engine} ${route}, ${countLabel(n)} stored`;
            list.push({
              name: name(count), server: spec, path: PATHS[route], section: stored,
              ...(i === 0 ? {} : { baseline: name(STORED_COUNTS[0]!), target: '1.00x (flat)' }),
            });
          }
        }
      }
    }
  }
  // One ServerSpec object per server, shared by its scenarios (the runner starts each once).
  const specs = new Map<string, ServerSpec>();
  for (const scenario of list) {
    const known = specs.get(scenario.server.name);
    if (known === undefined) specs.set(scenario.server.name, scenario.server);
    else scenario.server = known;
  }
  return list;
}
