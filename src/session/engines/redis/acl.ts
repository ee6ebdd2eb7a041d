/**
 * The least privilege the Redis engine needs, as one Redis ACL rule to copy: the commands it
 * sends (its scripts by EVALSHA, EVAL when Redis lost them) and the commands its scripts call
 * (Redis checks those against the user too), on keys under `key_prefix` only: every key the
 * engine or a script touches is under it (sessions, moved-to pointers, owner indexes). The
 * tests run the engine contract and the example app under exactly this rule (acl.test.ts).
 */

/** The commands, as ACL names (`client|setname` is one subcommand). */
export const REDIS_ACL_COMMANDS: readonly string[] = [
  // The connection: ioredis names it, checks it is ready, selects the database, says goodbye.
  'client|setname', 'info', 'select', 'quit',
  // What the engine sends: its scripts, listing (SCAN), the owner index, replica acks.
  'evalsha', 'eval', 'scan', 'get', 'mget', 'set', 'del', 'zrange', 'zrem', 'wait',
  // What its scripts call.
  'expire', 'hmget', 'hset', 'renamenx', 'time', 'type', 'zadd', 'zcard', 'zscore',
];

/**
 * `ACL SETUSER <user> on ><password> <this>`: the engine's commands on keys under `keyPrefix`,
 * nothing else (no other key, no Pub/Sub channel). A Cluster client also asks `cluster|slots`.
 */
export function redisAclRule(keyPrefix: string): string {
  return `resetkeys ~${keyPrefix}* resetchannels -@all ${REDIS_ACL_COMMANDS.map(command => `+${command}`).join(' ')}`;
}
