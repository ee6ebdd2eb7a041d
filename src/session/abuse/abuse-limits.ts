/**
 * `AbuseLimits`: what one app notices and refuses of a client that abuses its sessions
 * (docs/design.md#abuse-limits), counted per client address (as `trust_proxy` defines it) in this
 * process, per minute, with no store round trip:
 *
 * - **Guessing** (OWASP's "session ID guessing detection"): a client that sends more than
 *   `unknown_id_limit` unknown, expired, revoked or malformed session ids in a minute is reported
 *   once per minute (a warning line and the `session.id_guessing` hook). With `unknown_id_block`
 *   its requests that would read a session answer 429 until the minute ends, before any store
 *   lookup, so guessing costs the store nothing and tells the client nothing.
 * - **Creation** (`new_session_limit`): a client may store that many new sessions a minute;
 *   past it a request that would store one answers 429 and stores nothing, so a loop of
 *   requests cannot fill the store (or, on Cookie, the revocation store's lists).
 *
 * Both are counted only where the request already did the slow thing (a lookup that found
 * nothing, a new session being stored); the one check on an ordinary read, with
 * unknown_id_block on, is a Map's size while no client is over.
 */
import { HttpError } from '../../base/errors.ts';
import { ClientCounts } from './client-counts.ts';

/** The settings (session/settings.ts) the limits read. */
export interface AbuseSettings {
  unknown_id_limit: number;
  unknown_id_block: boolean;
  new_session_limit: number;
}

/** What the limits need to know of the request: its client's address. */
export interface AbuseClient {
  clientIp(): string | undefined;
}

const MINUTE = 60_000;

export class AbuseLimits {
  readonly #settings: AbuseSettings;
  readonly #warn: (message: string) => void;
  readonly #unknown = new ClientCounts(MINUTE);
  readonly #created = new ClientCounts(MINUTE);

  constructor(settings: AbuseSettings, warn: (message: string) => void) {
    this.#settings = settings;
    this.#warn = warn;
  }

  /** Whether the limits are on at all (a RequestSession then gives them its client). */
  static wanted(settings: AbuseSettings): boolean {
    return settings.unknown_id_limit > 0 || settings.new_session_limit > 0;
  }

  /**
   * A 429 when `client` is past unknown_id_limit this minute and unknown_id_block is on;
   * undefined otherwise. Called before a session lookup.
   */
  blocked(client: AbuseClient | undefined): HttpError | undefined {
    const { unknown_id_block: block, unknown_id_limit: limit } = this.#settings;
    if (!block || limit === 0 || client === undefined) return undefined;
    const now = Date.now();
    if (this.#unknown.count(addressOf(client), now) <= limit) return undefined;
    return tooMany('Too many unknown session ids from this client', this.#unknown.secondsLeft(now));
  }

  /**
   * A lookup by `client` found no session. True the one time in a minute the client passes
   * unknown_id_limit: the caller reports it (the `session.id_guessing` hook).
   */
  unknownId(client: AbuseClient | undefined): boolean {
    const limit = this.#settings.unknown_id_limit;
    if (limit === 0 || client === undefined) return false;
    const address = addressOf(client);
    if (this.#unknown.add(address, Date.now()) !== limit + 1) return false;
    this.#warn(`session: client ${address} sent more than ${limit} unknown or expired session ids within a minute (session id guessing?)${this.#settings.unknown_id_block ? '; its session requests answer 429 until the minute ends' : ''}`);
    return true;
  }

  /** `client` is about to store a new session: a 429 past new_session_limit this minute. */
  creating(client: AbuseClient | undefined): void {
    const limit = this.#settings.new_session_limit;
    if (limit === 0 || client === undefined) return;
    const now = Date.now();
    if (this.#created.add(addressOf(client), now) > limit) throw tooMany('Too many new sessions from this client', this.#created.secondsLeft(now));
  }
}

/** The client's address as a key; a request without one (a closed socket) counts as one client. */
function addressOf(client: AbuseClient): string {
  return client.clientIp() ?? 'unknown';
}

function tooMany(message: string, retryAfter: number): HttpError {
  return new HttpError(429, message, { headers: { 'Retry-After': String(retryAfter) } });
}
