/**
 * What `userSessions(userId)` gives an app: one entry per live session (device) of a user, from
 * the engine's owner index, without any id a client could replay (docs/design.md#owners).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { OwnedSession } from './engine.ts';
import { deviceOf, metaOf, type SessionDevice } from './session-meta.ts';
import { sessionHandle } from './store-key.ts';

/** One live session of a user, as a "Your sessions" page shows it. */
export interface UserSession {
  /**
   * Names this session in the list (22 base64url characters, stable for the session's life
   * until its id changes); derived from its store key by a hash, so it is never a usable cookie.
   */
  handle: string;
  /** This is the session of the request that asked. */
  current: boolean;
  /** When the session was first stored. */
  createdAt: Date;
  /** The last write to the session (a login, a change); the creation time before any. */
  lastSeenAt: Date;
  /** The User-Agent header of the last write; undefined when it sent none. */
  userAgent: string | undefined;
  /** The client IP of the last write (X-Forwarded-For's first address only with trust_proxy). */
  ip: string | undefined;
  /** The session is bound to a key the browser keeps on the device (the `dbsc` setting). */
  deviceBound: boolean;
}

/**
 * The entries of `owned` (from engine.ownedSessions), newest activity first. `currentKey` is the
 * store key of the asking request's session. Sessions past `absolute` seconds since creation
 * read as unknown everywhere, so they are left out here too.
 */
export function listUserSessions(owned: OwnedSession[], currentKey: string | undefined, absolute: number | undefined): UserSession[] {
  const now = Date.now();
  const list: UserSession[] = [];
  for (const { id, record } of owned) {
    const device = deviceOf(record.data);
    const meta = metaOf(record.data);
    const created = meta?.created ?? device?.at ?? now;
    if (absolute !== undefined && created + absolute * 1000 <= now) continue;
    list.push({
      handle: sessionHandle(id),
      current: id === currentKey,
      createdAt: new Date(created),
      lastSeenAt: new Date(device?.at ?? created),
      userAgent: device?.userAgent,
      ip: device?.ip,
      deviceBound: meta?.dbsc?.jwk !== undefined,
    });
  }
  return list.sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
}

/** The userId of login / userSessions / destroyUserSessions: a non-empty string, or a TypeError. */
export function checkUserId(keyword: string, userId: unknown): string {
  if (typeof userId !== 'string' || userId === '') {
    const shown = typeof userId === 'string' ? '""' : typeof userId === 'object' ? String(userId) : `${typeof userId} ${String(userId)}`;
    throw new TypeError(`${keyword}(userId): expected the user's id as a non-empty string, got ${shown}`);
  }
  return userId;
}

/** The request, as an owned session's write records its client (the Context: RequestData). */
export interface ClientSource {
  readonly headers: IncomingHttpHeaders;
  clientIp(): string | undefined;
  /** The request itself, named in the session's trace payloads (base/tracing.ts). */
  readonly req?: IncomingMessage;
}

/** The client of this write; the User-Agent cut to 512 characters (a client sends what it likes). */
export function writtenBy(client: ClientSource): SessionDevice {
  const agent = client.headers['user-agent'];
  return { at: Date.now(), userAgent: agent === undefined ? undefined : agent.slice(0, 512), ip: client.clientIp() };
}
