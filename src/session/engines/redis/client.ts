/**
 * The one module that loads ioredis. The Redis engine imports it on its first connection, so an
 * app that never uses Redis (or `import 'quickstep'` alone) never loads ioredis.
 */
import { Cluster, Redis, ReplyError } from 'ioredis';
import { clusterClientOptions, parseAddress, redisClientOptions, type RedisEngineOptions } from './options.ts';
import type { SessionScripts } from './scripts.ts';

export { ReplyError };

/** The client with the scripts (redis/scripts.ts), as the engine and redis/owners.ts use it (types only: no load). */
export type Client = (Redis | Cluster) & SessionScripts;

/** A client for the options: Redis.Cluster for `cluster`, else one Redis (direct or sentinel). */
export function createClient(options: RedisEngineOptions): Redis | Cluster {
  if (options.cluster) return new Cluster(options.cluster.map(parseAddress), clusterClientOptions(options));
  if (options.url) return new Redis(options.url, redisClientOptions(options));
  return new Redis(redisClientOptions(options));
}
