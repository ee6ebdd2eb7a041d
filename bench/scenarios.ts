/**
 * What the bench measures: the servers (one process each) and the scenarios run against them,
 * each with the baseline its ratio is taken against and the DESIGN §8 target where there is one.
 */

/** One server process: a file in bench/servers/ (or an absolute path) started with `BENCH_STORE=<store>`. */
export interface ServerSpec {
  name: string;
  file: string;
  store: 'memory' | 'redis' | 'none';
  /** More environment for the server process (e.g. BENCH_KEYWORDS). */
  env?: Record<string, string>;
}

/** One wrk target. */
export interface Scenario {
  name: string;
  server: ServerSpec;
  path: '/hello' | '/read' | '/write';
  /** Name of the scenario whose req/s this one is divided by; none for a baseline. */
  baseline?: string;
  target?: string;
}

const server = (name: string, file: string, store: ServerSpec['store'], env?: Record<string, string>): ServerSpec =>
  ({ name, file, store, ...(env === undefined ? {} : { env }) });
const bare = server('bare', 'bare.ts', 'none');
const handRedis = server('hand-redis', 'hand-redis.ts', 'redis');
const handMap = server('hand-map', 'hand-map.ts', 'memory');

const BARE = 'bare node:http hello';
const REDIS_READ = 'hand-written Redis read';
const REDIS_WRITE = 'hand-written Redis write';
const MAP_READ = 'hand-written Map read';
const MAP_WRITE = 'hand-written Map write';

/** The untouched / read / write trio for a framework on one store, with its baselines. */
function trio(label: string, spec: ServerSpec, targets?: [string, string, string]): Scenario[] {
  const [read, write] = spec.store === 'redis' ? [REDIS_READ, REDIS_WRITE] : [MAP_READ, MAP_WRITE];
  const scenario = (what: string, path: Scenario['path'], baseline: string, target?: string): Scenario =>
    ({ name: `${label} ${what}`, server: spec, path, baseline, ...(target === undefined ? {} : { target }) });
  return [
    scenario('untouched', '/hello', BARE, targets?.[0]),
    scenario('read', '/read', read, targets?.[1]),
    scenario('write', '/write', write, targets?.[2]),
  ];
}

/** Every scenario, baselines first, in the order one round runs them. */
export const scenarios: Scenario[] = [
  { name: BARE, server: bare, path: '/hello' },
  { name: REDIS_READ, server: handRedis, path: '/read' },
  { name: REDIS_WRITE, server: handRedis, path: '/write' },
  { name: MAP_READ, server: handMap, path: '/read' },
  { name: MAP_WRITE, server: handMap, path: '/write' },
  ...trio('fastify+Redis', server('fastify-redis', 'fastify.ts', 'redis')),
  ...trio('express+Redis', server('express-redis', 'express.ts', 'redis')),
  ...trio('Quickstep Memory', server('quickstep-memory', 'quickstep.ts', 'memory'),
    ['≥0.85x', '≥0.8x', '≥0.8x']),
  ...trio('Quickstep Redis', server('quickstep-redis', 'quickstep.ts', 'redis'),
    ['≥0.85x, 0 cmds', '≥0.9x, 1 cmd', '≥0.85x, ≤2 cmds']),
  // The same app with `keywords: false`: ctx methods only, so Node 20's AsyncLocalStorage hooks
  // never run; the difference is what the keywords cost.
  ...trio('Quickstep Memory, keywords off', server('quickstep-memory-ctx', 'quickstep.ts', 'memory', { BENCH_KEYWORDS: 'off' }),
    ['≥0.85x', '≥0.8x', '≥0.8x']),
  ...trio('Quickstep Redis, keywords off', server('quickstep-redis-ctx', 'quickstep.ts', 'redis', { BENCH_KEYWORDS: 'off' }),
    ['≥0.85x, 0 cmds', '≥0.9x, 1 cmd', '≥0.85x, ≤2 cmds']),
];

/**
 * `--compare DIR`: Quickstep's Memory and Redis trios once more, served by the checkout in DIR
 * (e.g. `git worktree add /tmp/before HEAD~3`, with its node_modules), so a change is measured
 * against the code before it in the same run.
 */
export function comparedScenarios(dir: string, label: string): Scenario[] {
  const file = `${dir.replace(/\/$/, '')}/bench/servers/quickstep.ts`;
  return [
    ...trio(`Quickstep Memory (${label})`, server(`quickstep-memory-${label}`, file, 'memory')),
    ...trio(`Quickstep Redis (${label})`, server(`quickstep-redis-${label}`, file, 'redis')),
  ];
}
