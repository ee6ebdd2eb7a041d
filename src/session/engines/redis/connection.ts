/**
 * The Redis engine's one connection (or Cluster client): made on the first session use, which
 * is when ioredis is loaded (redis/client.ts), waited for within command_timeout, and the state
 * of an outage: while Redis is known to be down a request fails at once (503) instead of
 * waiting, the outage is logged once, and its end once.
 */
import { SessionStoreError } from '../../../base/errors.ts';
import type { EngineContext } from '../../engine.ts';
import type { Client } from './client.ts';
import { describeTarget, type RedisEngineOptions } from './options.ts';
import { redisTimeouts } from './timeouts.ts';

/** redis/client.ts, the one module that loads ioredis: imported on the first connection. */
type ClientModule = typeof import('./client.ts');

export class RedisConnection {
  readonly #options: RedisEngineOptions;
  readonly #log: EngineContext['log'];
  /** The connection wait (redis/timeouts.ts). */
  readonly #waitMs: number;
  #client: Client | undefined;
  /** ioredis, through redis/client.ts, once the first session use loaded it. */
  #clientModule: ClientModule | undefined;
  #loadingClient: Promise<Client> | undefined;
  /** The wait for 'ready' that concurrent requests share while (re)connecting. */
  #connecting: Promise<Client> | undefined;
  /** Redis is known to be unreachable: fail at once instead of waiting, log once. */
  #down = false;
  #lastError: unknown;
  #closed = false;

  /** Opens nothing: that happens on the first `client()`. */
  constructor(options: RedisEngineOptions, context: EngineContext) {
    this.#options = options;
    this.#log = context.log;
    this.#waitMs = redisTimeouts(options).connectionWaitMs;
  }

  /** The client if it is ready now: the path of every request while Redis is up. */
  get ready(): Client | undefined {
    const client = this.#client;
    return client?.status === 'ready' ? client : undefined;
  }

  /** A command was answered: an outage the engine was in is over. */
  answered(): void {
    if (this.#down) this.#recovered();
  }

  /** An error reply from Redis (a script's error, a wrong type), not a failure of the connection. */
  readonly isReplyError = (error: unknown): boolean => this.#clientModule !== undefined && error instanceof this.#clientModule.ReplyError;

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    if (!client) return;
    if (client.status === 'ready') await client.quit().catch(() => {});
    // Also after QUIT: only disconnect() closes the sentinel connections of the failover
    // detector, which would otherwise stay open and report errors once the sentinels go.
    client.disconnect();
  }


  /** The client once it is ready: opened on first use, waited for within command_timeout. */
  client(): Promise<Client> {
    if (this.#closed) return Promise.reject(new SessionStoreError('The Redis session engine is closed'));
    if (this.#client === undefined) return (this.#loadingClient ??= this.#loadClient());
    const client = this.#client;
    if (client.status === 'ready') return Promise.resolve(client);
    if (this.#down && client.status !== 'wait') {
      return Promise.reject(new SessionStoreError(`${describeTarget(this.#options)} is unreachable`, { cause: this.#lastError }));
    }
    return (this.#connecting ??= new Promise<Client>((resolve, reject) => {
      const ms = this.#waitMs;
      const onReady = () => finish();
      const onEnd = () => finish(new Error('connection closed'));
      const timer = setTimeout(() => finish(new Error(`no connection within command_timeout (${ms} ms)`)), ms);
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        client.off('ready', onReady).off('error', finish).off('end', onEnd);
        this.#connecting = undefined;
        if (error === undefined) return resolve(client);
        this.#outage(error);
        reject(new SessionStoreError(`${describeTarget(this.#options)} is unreachable`, { cause: error }));
      };
      client.once('ready', onReady).once('error', finish).once('end', onEnd);
      // Failures arrive as 'error' events, handled above and by the listener in #open.
      if (client.status === 'wait') client.connect().catch(() => {});
    }));
  }

  /** Loads ioredis (the first session use only), makes the client, then connects as usual. */
  async #loadClient(): Promise<Client> {
    try {
      this.#clientModule ??= await import('./client.ts');
    } catch (error) {
      this.#loadingClient = undefined;
      throw new SessionStoreError('The Redis client (ioredis) could not be loaded', { cause: error });
    }
    this.#client ??= this.#open(this.#clientModule);
    this.#loadingClient = undefined;
    return this.client();
  }

  #open(module: ClientModule): Client {
    const client = module.createClient(this.#options) as Client;
    // Without a listener ioredis would print every reconnect failure; the outage is logged once.
    client.on('error', error => this.#outage(error));
    client.on('ready', () => this.#recovered());
    return client;
  }

  /** Wraps a command failure; a failure of the connection (not a Redis error reply) is an outage. */
  failure(action: string, error: unknown): SessionStoreError {
    if (error instanceof SessionStoreError) return error;
    if (!(this.#clientModule && error instanceof this.#clientModule.ReplyError)) this.#outage(error);
    return new SessionStoreError(`The Redis session store could not ${action} the session`, { cause: error });
  }

  #outage(error: unknown): void {
    this.#lastError = error;
    if (this.#down || this.#closed) return;
    this.#down = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.#log('error', `session store: ${describeTarget(this.#options)} is unreachable (${reason}); requests that need the session answer 503 until it is back`);
  }

  #recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#log('info', `session store: ${describeTarget(this.#options)} is reachable again`);
  }
}
