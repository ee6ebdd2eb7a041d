/**
 * What ioredis and Redis alone do not guarantee (found by `npm run reliability`): a write is
 * acknowledged only once `wait_replicas` replicas have it (Sentinel: 1 by default). A master
 * that comes back while Sentinel fails it over is master until it is demoted, and the resync
 * after its demotion drops what it took meanwhile: without WAIT those writes were answered 200
 * and lost. With it, a master whose replicas left it answers 503 (outcome unknown) instead.
 * (The other such guarantee, every operation within command_timeout on a Cluster and with
 * Sentinel, is the operation timer of redis/timeouts.ts.)
 */
import { SessionStoreError } from '../../../base/errors.ts';
import { handled } from '../../../base/handled.ts';

/** The one command replicaAck sends (ioredis's `wait`). */
interface Waiting { wait(replicas: number, timeoutMs: number): Promise<number> }

/**
 * WAIT for `replicas` replicas, at most `timeoutMs`. Call it right after the write it confirms,
 * before any await: ioredis writes commands in call order on its one connection, so it goes
 * right behind the write (WAIT covers the earlier writes of its own connection; after a
 * reconnect it would cover none).
 * Rejects with SessionStoreError when fewer replicas have it; already handled, so a write that
 * failed first (and is never followed by an await of this) leaves no unhandled rejection.
 */
export function replicaAck(client: Waiting, replicas: number, timeoutMs: number): Promise<void> {
  const acknowledged = client.wait(replicas, timeoutMs).then(count => {
    if (count < replicas) {
      throw new SessionStoreError(`The write reached ${count} of the ${replicas} replica(s) wait_replicas asks for within ${timeoutMs} ms: its outcome is unknown (a failover may drop it)`);
    }
  });
  return handled(acknowledged);
}
