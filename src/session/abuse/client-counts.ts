/**
 * `ClientCounts`: how many times each client did one thing in the current minute, in this
 * process. A fixed window (the counts start again every `windowMs`), which is a Map cleared at
 * once rather than a timestamp list per client: O(1) per event and no timer. At most
 * `maxClients` clients are counted per window; past that, new clients are counted together under
 * one shared key, so a flood from many addresses (IPv6 makes them cheap) cannot grow the Map
 * without bound, and is still counted.
 */
export class ClientCounts {
  readonly #windowMs: number;
  readonly #maxClients: number;
  #counts = new Map<string, number>();
  #windowEnd = 0;

  constructor(windowMs: number, maxClients = 100_000) {
    this.#windowMs = windowMs;
    this.#maxClients = maxClients;
  }

  /** Counts one event of `client`; its count in this window, this one included. */
  add(client: string, now: number): number {
    this.#roll(now);
    const counts = this.#counts;
    const key = counts.has(client) || counts.size < this.#maxClients ? client : OVERFLOW;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    return count;
  }

  /** `client`'s count in this window. */
  count(client: string, now: number): number {
    if (this.#counts.size === 0) return 0;
    this.#roll(now);
    return this.#counts.get(client) ?? 0;
  }

  /** Seconds until the counts start again (a Retry-After). */
  secondsLeft(now: number): number {
    return Math.max(1, Math.ceil((this.#windowEnd - now) / 1000));
  }

  #roll(now: number): void {
    if (now < this.#windowEnd) return;
    if (this.#counts.size > 0) this.#counts = new Map();
    this.#windowEnd = now + this.#windowMs;
  }
}

/** The key the clients past maxClients share. */
const OVERFLOW = '\0overflow';
