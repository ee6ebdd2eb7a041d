/** The Redis engine as config.yml sees it: `session: Redis`, options under `engines.session.Redis`. */
import type { SessionEngineDefinition, StoredEngine } from '../../engine.ts';
import { RedisEngine } from './redis.ts';
import { redisOptionSpecs, validateRedisOptions, type RedisEngineOptions } from './options.ts';

export const redisEngine: SessionEngineDefinition<RedisEngineOptions> = {
  options: redisOptionSpecs,
  validate: validateRedisOptions,
  create: (options, context) => storedRedisEngine(new RedisEngine(options, context)),
};

/**
 * `engine` as its definition's `create` gives it: the one instance is the store and every
 * capability; the request deadline is set on a Cluster or with Sentinel only, and the move at
 * the flush (changeIdAtFlush) offered on a single node only.
 */
export function storedRedisEngine(engine: RedisEngine): StoredEngine {
  return { store: engine, changeId: engine, changeIdAtFlush: engine.singleNode ? engine : undefined, renewal: engine, take: engine, flushUnread: engine, owners: engine, requestDeadlineMs: engine.requestDeadlineMs, close: () => engine.close() };
}
