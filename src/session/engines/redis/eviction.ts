/**
 * Whether the Redis behind the engine may evict sessions, checked from `INFO` (which managed
 * services allow where CONFIG is blocked), so that an operator hears of it before users are
 * logged out. Every session key has a TTL, so every `maxmemory-policy` but `noeviction` can evict
 * sessions under memory pressure (`volatile-*` ones too), losing acknowledged writes.
 *
 * - When the engine connects (each 'ready': a restart or a failover may bring another Redis),
 *   each node's policy is read; one that can evict is one warning naming the risk and the fix,
 *   or, with `eviction: refuse`, the engine refuses sessions (503, one error line) until it is
 *   `noeviction`.
 * - Evictions that happen anyway are noticed where users notice them: a read that finds no
 *   session samples `evicted_keys` (at most once per MISS_SAMPLE_MS, off the request's path) and
 *   a count that grew since the last sample is one warning.
 * Nothing here runs on a read that finds its session.
 */
import type { Client } from './client.ts';
import type { EvictionCheck } from './options.ts';

/** At most one `evicted_keys` sample per this many ms, however many reads miss. */
const MISS_SAMPLE_MS = 10_000;
/** While sessions are refused (`eviction: refuse`), the policy is read again this often, on demand. */
const RECHECK_MS = 2_000;

type Log = (level: 'info' | 'warning' | 'error', message: string) => void;

/** INFO `section` of each node that holds sessions: the one Redis, or every Cluster master. */
async function infoOfNodes(client: Client, section: string): Promise<string[]> {
  if ('nodes' in client && typeof client.nodes === 'function') return Promise.all(client.nodes('master').map(node => node.info(section)));
  return [await client.info(section)];
}

const field = (info: string, name: string): string | undefined => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];

export class EvictionWatch {
  readonly #mode: EvictionCheck;
  readonly #target: string;
  readonly #log: Log;
  /** The evicting policy last warned about, so that each reconnect does not repeat it. */
  #warned: string | undefined;
  /** Set while the policy can evict and `eviction: refuse`: why the engine refuses sessions. */
  refusal: string | undefined;
  #evicted: number | undefined;
  /** When evicted_keys was last sampled for a miss; the first miss after connecting samples at once. */
  #sampledAt = -Infinity;
  #checkedAt = -Infinity;

  constructor(mode: EvictionCheck, target: string, log: Log) {
    this.#mode = mode;
    this.#target = target;
    this.#log = log;
  }

  /** On each 'ready': the policy of every node, and the eviction count to compare later ones with. */
  async connected(client: Client): Promise<void> {
    if (this.#mode === 'ignore') return;
    let infos: string[];
    try {
      infos = await infoOfNodes(client, 'all');
    } catch (error) {
      this.#log('warning', `session store: cannot check ${this.#target}'s maxmemory-policy (${error instanceof Error ? error.message : String(error)}); grant the INFO command to check it`);
      return;
    }
    this.#evicted = infos.reduce((sum, info) => sum + Number(field(info, 'evicted_keys') ?? 0), 0);
    this.#checkedAt = performance.now();
    const evicting = infos.map(info => field(info, 'maxmemory_policy')).find(policy => policy !== undefined && policy !== 'noeviction');
    if (evicting === undefined) {
      if (this.refusal !== undefined) this.#log('info', `session store: ${this.#target} now has maxmemory-policy noeviction; sessions are served again`);
      this.refusal = undefined;
      this.#warned = undefined;
      return;
    }
    const risk = `${this.#target} has maxmemory-policy ${evicting}: under memory pressure Redis evicts session keys (they all have a TTL), logging users out and losing acknowledged writes; set maxmemory-policy noeviction, or give sessions a Redis of their own`;
    if (this.#mode === 'refuse') {
      if (this.refusal === undefined) this.#log('error', `session store: ${risk}. Sessions are refused (503) until then (eviction: refuse)`);
      this.refusal = `${this.#target} has maxmemory-policy ${evicting} (eviction: refuse)`;
    } else if (this.#warned !== evicting) {
      this.#log('warning', `session store: ${risk} (eviction: refuse makes this an error)`);
    }
    this.#warned = evicting;
  }

  /** Sessions are refused and the last policy check is old enough to read it again. */
  get recheckDue(): boolean {
    return this.refusal !== undefined && performance.now() - this.#checkedAt >= RECHECK_MS;
  }

  /** A read found no session: maybe an eviction. Samples the count, at most once per MISS_SAMPLE_MS. */
  missed(client: Client): void {
    if (this.#mode === 'ignore' || this.#evicted === undefined) return;
    const now = performance.now();
    if (now - this.#sampledAt < MISS_SAMPLE_MS) return;
    this.#sampledAt = now;
    infoOfNodes(client, 'stats').then(infos => {
      const evicted = infos.reduce((sum, info) => sum + Number(field(info, 'evicted_keys') ?? 0), 0);
      const grown = evicted - (this.#evicted ?? evicted);
      this.#evicted = evicted;
      if (grown > 0) this.#log('warning', `session store: ${this.#target} evicted ${grown} key${grown === 1 ? '' : 's'} since the last check: sessions among them are lost (users logged out, their writes gone); set maxmemory-policy noeviction or give Redis more memory`);
    }, () => {});
  }
}
