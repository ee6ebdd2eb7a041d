/**
 * The one module that loads ioredis. The Redis engine imports it on its first connection, so an
 * app that never uses Redis (or `import 'quickstep'` alone) never loads ioredis.
 */
import { Cluster, Redis, ReplyError } from 'ioredis';
import { clusterClientOptions, parseAddress, redisClientOptions, type RedisEngineOptions } from './options.ts';

export { ReplyError };

/** The scripts registered on the client (redis/options.ts), as ioredis exposes them. */
export interface SessionScripts {
  /** 1, 0 or -1, a forward's key or -2 (changeId), or [-2, size] past max_session_size (redis/scripts.ts). */
  sessionFlush(key: string, ...args: (string | number)[]): Promise<FlushAnswer>;
  /** 0, [1, remember or 0], or what sessionFlush answers past the size or at a forward. */
  sessionFlushUnread(key: string, ...args: (string | number)[]): Promise<FlushAnswer>;
  sessionRename(oldKey: string, newKey: string, forwardSeconds: number, now: number): Promise<number>;
  sessionMoveOut(oldKey: string, newKey: string, forwardSeconds: number, now: number): Promise<string | null>;
  sessionTake(key: string, field: string): Promise<string | null>;
  sessionRead(key: string, sessionDuration: number): Promise<string | null>;
  // The owner index (redis/owners.ts), single node: the same scripts with the index keys.
  sessionFlushOwned(key: string, join: string, leave: string, ...args: (string | number)[]): Promise<FlushAnswer>;
  sessionRenameOwned(oldKey: string, newKey: string, index: string, forwardSeconds: number, now: number): Promise<number>;
  sessionDestroyOwned(key: string, index: string): Promise<number>;
  ownerPrune(index: string, graceMs: number, ...memberScores: string[]): Promise<number>;
  ownerIndexAdd(index: string, key: string): Promise<number>;
}
/** The client with the scripts, as the engine and redis/owners.ts use it (types only: no load). */
export type Client = (Redis | Cluster) & SessionScripts;
/** What the flush script answers (see FLUSH_SCRIPT). */
export type FlushAnswer = number | string | [number, number];

/** A client for the options: Redis.Cluster for `cluster`, else one Redis (direct or sentinel). */
export function createClient(options: RedisEngineOptions): Redis | Cluster {
  if (options.cluster) return new Cluster(options.cluster.map(parseAddress), clusterClientOptions(options));
  if (options.url) return new Redis(options.url, redisClientOptions(options));
  return new Redis(redisClientOptions(options));
}
