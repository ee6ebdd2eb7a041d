/**
 * The Redis engine's one connection (or Cluster client): made on the first session use, which
 * is when ioredis is loaded (redis/client.ts), waited for within command_timeout, and the state
 * of an outage: while Redis is known to be down a request fails at once (503) instead of
 * waiting, the outage is logged once, and its end once. The same for a refusal: an error reply
 * that fails requests until someone acts (OOM, NOPERM, READONLY, ...: redis/diagnosis.ts) is
 * one line naming the cause and the fix when it starts, and one when that operation works again.
 */
import { SessionStoreError } from '../../../base/errors.ts';
import type { EngineContext } from '../../engine.ts';
import type { Client } from './client.ts';
import { explain, lastingRefusal } from './diagnosis.ts';
import { EvictionWatch } from './eviction.ts';
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
  /**
   * Refusals under way: an error code (OOM, NOPERM, ...) -> the operation it failed, which ends
   * the episode when it is answered again. Undefined when none, so an answer checks one field.
   */
  #refusals: Map<string, string> | undefined;
  /** The maxmemory-policy check and the evictions noticed (redis/eviction.ts). */
  readonly #eviction: EvictionWatch;
  /** With `eviction: refuse`, the policy check after a 'ready' that operations wait for. */
  #checking: Promise<void> | undefined;

  /** Opens nothing: that happens on the first `client()`. */
  constructor(options: RedisEngineOptions, context: EngineContext) {
    this.#options = options;
    this.#log = context.log;
    this.#waitMs = redisTimeouts(options).connectionWaitMs;
    this.#eviction = new EvictionWatch(options.eviction, describeTarget(options), context.log);
  }

  /** The client if it is ready now: the path of every request while Redis is up. */
  get ready(): Client | undefined {
    const client = this.#client;
    return client?.status === 'ready' && this.#checking === undefined && this.#eviction.refusal === undefined ? client : undefined;
  }

  /** A read found no session: perhaps Redis evicted it (redis/eviction.ts samples, now and then). */
  missed(): void {
    const client = this.ready;
    if (client !== undefined) this.#eviction.missed(client);
  }

  /** `action` was answered: an outage the engine was in is over, and so is a refusal of that action. */
  answered(action: string): void {
    if (this.#down) this.#recovered();
    if (this.#refusals !== undefined) this.#accepted(action);
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
    if (this.#checking !== undefined) return this.#checking.then(() => this.client());
    // Refused for an evicting policy: read it again now and then, so a fix needs no restart.
    if (this.#eviction.recheckDue && client.status === 'ready') {
      this.#checking = this.#eviction.connected(client).finally(() => (this.#checking = undefined));
      return this.#checking.then(() => this.client());
    }
    const refusal = this.#eviction.refusal;
    if (refusal !== undefined) return Promise.reject(new SessionStoreError(`Sessions are refused: ${refusal}`));
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
        // Through client() again: a policy check (eviction: refuse) may hold or refuse it.
        if (error === undefined) return resolve(this.client());
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
    client.on('ready', () => {
      this.#recovered();
      const checked = this.#eviction.connected(client as Client);
      // With `eviction: refuse` no session is served before the policy is known.
      if (this.#options.eviction === 'refuse') this.#checking = checked.finally(() => (this.#checking = undefined));
    });
    return client;
  }

  /**
   * Wraps a command failure; a failure of the connection (not a Redis error reply) is an outage,
   * an error reply that keeps failing requests until someone acts is a refusal.
   */
  failure(action: string, error: unknown): SessionStoreError {
    if (error instanceof SessionStoreError) return error;
    if (!(this.#clientModule && error instanceof this.#clientModule.ReplyError)) this.#outage(error);
    else this.#refused(action, error);
    return new SessionStoreError(`The Redis session store could not ${action} the session`, { cause: error });
  }

  #outage(error: unknown): void {
    this.#lastError = error;
    if (this.#down || this.#closed) return;
    this.#down = true;
    this.#log('error', `session store: ${describeTarget(this.#options)} is unreachable (${explain(error)}); requests that need the session answer 503 until it is back`);
  }

  /** An error reply failed `action`: logged once per episode when it is one that lasts (lastingRefusal). */
  #refused(action: string, error: unknown): void {
    const refusal = lastingRefusal(error);
    if (refusal === undefined || this.#refusals?.has(refusal.code)) return;
    const { code, fix } = refusal;
    (this.#refusals ??= new Map()).set(code, action);
    const message = error instanceof Error ? error.message : String(error);
    this.#log('error', `session store: ${describeTarget(this.#options)} refused to ${action} the session (${message.trim()}): ${fix}; requests that ${action} the session answer 503 until it clears`);
  }

  /** `action` worked: the refusals it had ended are over. */
  #accepted(action: string): void {
    const refusals = this.#refusals!;
    for (const [code, refused] of refusals) {
      if (refused !== action) continue;
      refusals.delete(code);
      this.#log('info', `session store: ${describeTarget(this.#options)} lets the engine ${action} sessions again (${code} cleared)`);
    }
    if (refusals.size === 0) this.#refusals = undefined;
  }

  #recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#log('info', `session store: ${describeTarget(this.#options)} is reachable again`);
  }
}
