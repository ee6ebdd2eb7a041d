/** The Redis engine as config.yml sees it: `session: Redis`, options under `engines.session.Redis`. */
import type { SessionEngineDefinition } from '../../engine.ts';
import { RedisEngine } from './redis.ts';
import { redisOptionSpecs, validateRedisOptions, type RedisEngineOptions } from './options.ts';

export const redisEngine: SessionEngineDefinition<RedisEngineOptions> = {
  options: redisOptionSpecs,
  validate: validateRedisOptions,
  create: (options, context) => new RedisEngine(options, context),
};
