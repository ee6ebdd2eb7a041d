/**
 * The `revocation` key of the Cookie engine (engines.session.Cookie.revocation): where the
 * revocation store lives, or `false` for none. It must be given: whether a logged-out cookie's
 * copy keeps working is a choice to make once, at start-up, not to discover at a login's 500
 * (docs/design.md#revocable-sealed-cookies).
 *
 *   revocation: { store: Memory }                          # one process; lost on restart
 *   revocation: { store: Redis, url: redis://host:6379 }   # and every other key of engines.session.Redis
 *   revocation: false                                      # no server state; no login()
 */
import { ConfigError } from '../../base/errors.ts';
import { INVALID, readOptions, string, type OptionSpec, type Specs } from '../../base/schema.ts';
import type { EngineContext } from '../engine.ts';
import { redisOptionSpecs, validateRedisOptions, type RedisEngineOptions } from '../engines/redis/options.ts';
import { MemoryRevocations } from './memory.ts';
import { RedisRevocations } from './redis.ts';
import type { RevocationStore } from './revocation-store.ts';

/** The value as config.yml gave it: `false`, or the block (checked by checkRevocation). */
export type RevocationSetting = false | Record<string, unknown> | undefined;

export const EXAMPLE = 'where logouts are remembered, so that a copy of a logged-out cookie stops working: { store: Redis, url: "redis://127.0.0.1:6379" } (or { store: Memory } for one process), or false to keep no server state (a copied cookie then opens until it expires, and login() / userSessions() are unavailable)';

/** The spec of the key: false, or a mapping passed on to checkRevocation. */
export const revocationSpec: OptionSpec<RevocationSetting> = {
  expected: `false or a mapping, ${EXAMPLE}`,
  fallback: undefined,
  parse: value => {
    if (value === false || value === 'false') return false;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    return INVALID;
  },
};

type Block = RedisEngineOptions & { store: string };
const blockSpecs: Specs<Block> = {
  store: string('Memory', ['Memory', 'Redis']),
  ...redisOptionSpecs,
  key_prefix: string('quickstep.revoked:'),
};

/** The block read and checked (a ConfigError naming `path`), or undefined for `false`. */
export function checkRevocation(setting: RevocationSetting, where: { file: string; path: string }): Block | undefined {
  if (setting === undefined) throw new ConfigError(where.file, where.path, EXAMPLE);
  if (setting === false) return undefined;
  const block = readOptions(blockSpecs, setting, where);
  const redisKeys = Object.keys(redisOptionSpecs).filter(key => key !== 'key_prefix' && Object.hasOwn(setting, key));
  if (block.store === 'Memory' && redisKeys.length > 0) {
    throw new ConfigError(where.file, `${where.path}.${redisKeys[0]}`, 'store: Redis with Redis settings (the Memory store takes none)', 'store: Memory');
  }
  if (block.store === 'Redis') validateRedisOptions(block, where);
  return block;
}

/** Whether the store lives in this process (Memory): `workers` above 1 would split it. */
export function revocationIsProcessLocal(setting: RevocationSetting): boolean {
  return setting !== undefined && setting !== false && String(setting.store ?? 'Memory').toLowerCase() === 'memory';
}

/** The store a checked setting describes; undefined for `false`. */
export function createRevocationStore(setting: RevocationSetting, context: EngineContext): RevocationStore | undefined {
  const block = checkRevocation(setting, { file: 'config', path: 'revocation' });
  if (block === undefined) return undefined;
  return block.store === 'Redis' ? new RedisRevocations(block, context) : new MemoryRevocations();
}
