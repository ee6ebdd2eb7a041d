/**
 * The little server state that makes sealed cookies revocable (docs/design.md#revocable-sealed-cookies):
 * the Cookie engine keeps no session on the server, so a copy of a cookie would open until it
 * expires. A revocation store, configured beside the engine (`revocation:` under
 * `engines.session.Cookie`: revocation/options.ts), remembers three things, each only until the
 * cookies it concerns have expired anyway:
 *
 * - a **deny list**: a session's handle (never its id) and from when its cookies stop opening
 *   (logout, an id change; a renewal's old cookie after its grace window);
 * - a **not-before** per user: every cookie of the user whose id was issued at or before it stops
 *   opening, but the one session it keeps (log out everywhere, a credential change);
 * - a **list** per user of the sessions logged in (handle, creation, last write's client, until
 *   when it can live), what `userSessions` shows.
 *
 * Sessions are named by their handle (store-key.ts's `sessionHandle` of the id) and users by a
 * hash of the user id, so the store holds nothing a client could replay. Two implementations:
 * revocation/memory.ts (one process) and revocation/redis.ts (shared, Cluster included).
 */

/** One logged-in session in its owner's list. */
export interface ListedSeal {
  /** When the session was created (ms since epoch). */
  created: number;
  /** Its last write (ms since epoch). */
  at: number;
  userAgent: string | undefined;
  ip: string | undefined;
}

/** What `check` asks about one opened cookie. */
export interface SealCheck {
  /** The session's handle. */
  handle: string;
  /** Its owner (login), if any: only then is a not-before looked at. */
  owner: string | undefined;
  /** When its id was issued (ms since epoch); 0 when the cookie predates the field. */
  issuedAt: number;
  /** Where given, the owner's list entry is kept until then (a reseal slides the cookie's life). */
  until?: number;
}

export interface RevocationStore {
  /** Whether the cookie may no longer be used: one round trip (none on Memory). */
  isRevoked(check: SealCheck, now: number): Promise<boolean>;
  /**
   * Cookies of session `handle` stop opening from `from` (ms) until `until` (ms: the latest any
   * of its cookies expires); it leaves `owner`'s list, or with `next` (an id change) its entry
   * moves to that handle. An earlier `from` already recorded stays.
   */
  deny(handle: string, owner: string | undefined, from: number, until: number, next?: string): Promise<void>;
  /** Lists (or refreshes) a session of `owner` until `until` (ms). */
  record(owner: string, handle: string, entry: ListedSeal, until: number): Promise<void>;
  /** Takes session `handle` out of `owner`'s list (it logged in as someone else). */
  unlist(owner: string, handle: string): Promise<void>;
  /** The listed sessions of `owner` that can still be alive at `now`. */
  list(owner: string, now: number): Promise<{ handle: string; entry: ListedSeal }[]>;
  /**
   * Every cookie of `owner` whose id was issued at or before `at` stops opening, but those of
   * `keep` (a handle); the not-before is kept for `keepMs`. The list keeps only `keep`. How many
   * listed sessions it ended.
   */
  revokeOwner(owner: string, at: number, keep: string | undefined, keepMs: number): Promise<number>;
  close(): Promise<void>;
}

/** What a not-before says about a cookie of its user issued at `issuedAt` with handle `handle`. */
export function beforeNotBefore(notBefore: { at: number; keep: string }, handle: string, issuedAt: number): boolean {
  return issuedAt <= notBefore.at && handle !== notBefore.keep;
}

/**
 * How long a not-before must be kept: as long as a cookie issued before it can still open. With
 * absolute_duration that is its length; without, a session in use slides forever, but one
 * unused for its idle time is dead and one used is refused, so the longest idle time (a
 * remember() lifetime, which browsers cap at 400 days) is enough.
 */
export function notBeforeKeptMs(sessionDuration: number, absoluteDuration: number | undefined): number {
  return (absoluteDuration ?? Math.max(sessionDuration, 400 * 86_400)) * 1000;
}
