/**
 * Deadlines put around store operations that cannot be cancelled: the caller gets a
 * SessionStoreError (a 503) once the time is up, while the operation itself goes on (its outcome
 * is unknown, as a 503 on a write says) and its late failure is handled. Per operation, the
 * Redis engine on a Cluster and with Sentinel (its run path in engines/redis/redis.ts); per
 * request, RequestSession (StoredEngine.requestDeadlineMs).
 */
import { SessionStoreError } from '../base/errors.ts';
import { handled } from '../base/handled.ts';

/** `operation`, or a SessionStoreError with `message` once `ms` have passed without it settling. */
export function withinDeadline<T>(operation: Promise<T>, ms: number, message: string): Promise<T> {
  handled(operation);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new SessionStoreError(message)), ms);
  });
  return Promise.race([operation, late]).finally(() => clearTimeout(timer));
}

/**
 * The store time one request may spend, all its operations together. Time the route spends
 * elsewhere (between a read and a write) does not count; an operation started with nothing left
 * fails at once, without reaching the store.
 */
export class StoreTimeBudget {
  #leftMs: number;
  readonly #message: string;

  constructor(ms: number) {
    this.#leftMs = ms;
    this.#message = `The session store did not answer within command_timeout (${ms} ms, this request's operations together)`;
  }

  hold<T>(start: () => Promise<T>): Promise<T> {
    if (this.#leftMs <= 0) return Promise.reject(new SessionStoreError(this.#message));
    const started = performance.now();
    return withinDeadline(start(), this.#leftMs, this.#message).finally(() => {
      this.#leftMs -= performance.now() - started;
    });
  }
}
