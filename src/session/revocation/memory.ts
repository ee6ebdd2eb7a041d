/**
 * The revocation store in this process's memory: Maps, each entry with the time it may go, swept
 * every minute (an unref'd timer). No round trip: a check is two Map lookups. One process only
 * (a worker could not see another's logouts: `workers` above 1 is a ConfigError), and lost on a
 * restart, which brings logged-out cookies back until they expire: use Redis where that matters.
 * Never evicted for room: a forgotten denial would reopen a cookie.
 */
import { beforeNotBefore, type ListedSeal, type RevocationStore, type SealCheck } from './revocation-store.ts';

interface UserState {
  notBefore: { at: number; keep: string; until: number } | undefined;
  /** handle -> entry and until when it can live. */
  listed: Map<string, { entry: ListedSeal; until: number }>;
}

const SWEEP_MS = 60_000;

export class MemoryRevocations implements RevocationStore {
  /** handle -> { from, until }. */
  readonly #denied = new Map<string, { from: number; until: number }>();
  readonly #users = new Map<string, UserState>();
  readonly #sweep: NodeJS.Timeout;

  constructor() {
    this.#sweep = setInterval(() => this.#sweepNow(Date.now()), SWEEP_MS);
    this.#sweep.unref();
  }

  isRevoked(check: SealCheck, now: number): Promise<boolean> {
    const denied = this.#denied.get(check.handle);
    if (denied !== undefined && denied.from <= now && denied.until > now) return TRUE;
    if (check.owner === undefined) return FALSE;
    const user = this.#users.get(check.owner);
    if (user === undefined) return FALSE;
    const notBefore = user.notBefore;
    if (notBefore !== undefined && notBefore.until > now && beforeNotBefore(notBefore, check.handle, check.issuedAt)) return TRUE;
    const listed = check.until === undefined ? undefined : user.listed.get(check.handle);
    if (listed !== undefined && check.until! > listed.until) listed.until = check.until!;
    return FALSE;
  }

  async deny(handle: string, owner: string | undefined, from: number, until: number, next?: string): Promise<void> {
    const known = this.#denied.get(handle);
    if (known === undefined || known.from > from) this.#denied.set(handle, { from, until: Math.max(until, known?.until ?? 0) });
    const listed = owner === undefined ? undefined : this.#users.get(owner)?.listed;
    const entry = listed?.get(handle);
    if (entry === undefined) return;
    listed!.delete(handle);
    if (next !== undefined) listed!.set(next, entry);
  }

  async record(owner: string, handle: string, entry: ListedSeal, until: number): Promise<void> {
    const user = this.#user(owner);
    const known = user.listed.get(handle);
    user.listed.set(handle, { entry, until: Math.max(until, known?.until ?? 0) });
  }

  async unlist(owner: string, handle: string): Promise<void> {
    this.#users.get(owner)?.listed.delete(handle);
  }

  async list(owner: string, now: number): Promise<{ handle: string; entry: ListedSeal }[]> {
    const listed = this.#users.get(owner)?.listed;
    if (listed === undefined) return [];
    const live: { handle: string; entry: ListedSeal }[] = [];
    for (const [handle, { entry, until }] of listed) if (until > now) live.push({ handle, entry });
    return live;
  }

  async revokeOwner(owner: string, at: number, keep: string | undefined, keepMs: number): Promise<number> {
    const user = this.#user(owner);
    user.notBefore = { at, keep: keep ?? '', until: at + keepMs };
    let ended = 0;
    for (const [handle, { until }] of user.listed) {
      if (handle === keep) continue;
      if (until > at) ended++;
      user.listed.delete(handle);
    }
    return ended;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
  }

  #user(owner: string): UserState {
    let user = this.#users.get(owner);
    if (user === undefined) this.#users.set(owner, (user = { notBefore: undefined, listed: new Map() }));
    return user;
  }

  #sweepNow(now: number): void {
    for (const [handle, { until }] of this.#denied) if (until <= now) this.#denied.delete(handle);
    for (const [owner, user] of this.#users) {
      if (user.notBefore !== undefined && user.notBefore.until <= now) user.notBefore = undefined;
      for (const [handle, { until }] of user.listed) if (until <= now) user.listed.delete(handle);
      if (user.notBefore === undefined && user.listed.size === 0) this.#users.delete(owner);
    }
  }
}

const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);
