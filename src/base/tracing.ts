/**
 * Quickstep's TracingChannels (node:diagnostics_channel): what a tracer (OpenTelemetry, an APM
 * agent) subscribes to instead of patching Quickstep. The names and payloads below are a stable
 * contract, named as fastify and undici name theirs (`tracing:<name>:<event>`):
 *
 * | channel                          | one operation                  | what Quickstep adds to `req` (and `res`)          |
 * |----------------------------------|--------------------------------|---------------------------------------------------|
 * | `quickstep.request`              | a request, until it is written | `method`, `route` (the pattern, once matched), `status` |
 * | `quickstep.request.handler`      | one route handler call         | `method`, `route`                                 |
 * | `quickstep.session.load`         | reading the session            | `found`, `handle`                                 |
 * | `quickstep.session.flush`        | storing what the request changed | `changed` (keys), `merged`, `isNew`, `handle`   |
 * | `quickstep.session.change_id`    | changeSessionId() / login()    | `handle`, `newHandle`                             |
 * | `quickstep.session.destroy`      | destroySession() / logout()    | `handle`                                          |
 *
 * Every operation publishes `start`, `end` (its synchronous part returned), then `asyncStart` and
 * `asyncEnd` when it is over, whether it was synchronous or not: a subscriber opens a span at
 * `start` and closes it at `asyncEnd`, one rule for all of them. `error` comes before
 * `asyncStart` with the payload's `error`: an operation that threw (a route handler's error, not
 * its halt / redirect / pass / forward), a store that failed (a SessionStoreError: the request's
 * 503), and on `quickstep.request` a response with a 5xx status. `start` runs with
 * `runStores`, so an AsyncLocalStorage bound to it (`bindStore`) is entered for the operation
 * and every callback it schedules: a session load inside a traced request sees the request's store.
 *
 * A login or changeSessionId() of a stored session on an engine that moves the id with the flush
 * (the changeIdAtFlush capability: Redis on a single node or Sentinel) still publishes
 * `quickstep.session.change_id`, with both handles, but calls no store: the move is made by the
 * request's `quickstep.session.flush` (its `handle` is the new one) and a failed move is the
 * flush's `error`. A store operation of the request before the flush (userSessions, take, a
 * destroy) makes the move first, inside that operation (a destroy's span; the others have none).
 *
 * Secrets: a payload never holds a session id or a token, only the session's `handle` (the
 * non-replayable name userSessions gives, store-key.ts). `req` and `res` are node's own objects,
 * as in fastify's and undici's payloads (their headers carry cookies: a subscriber that records
 * headers must leave them out).
 *
 * Cost: none without a subscriber. Each place that publishes first reads `hasSubscribers` and
 * builds nothing otherwise (docs/design.md#tracing).
 */
import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What every payload has: the request it belongs to, and the error that ended the operation, if any. */
export interface Traced {
  /** The request (node's). Undefined only for a session used outside a request. */
  readonly req: IncomingMessage | undefined;
  /** Set before the `error` event. */
  error?: unknown;
}

/** `quickstep.request`: from the first byte Quickstep sees to the response handed to node. */
export interface RequestTrace extends Traced {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request method, as sent. */
  readonly method: string;
  /** The pattern of the route that ran last (`/notes/:id`, a RegExp's source), once one matched; undefined for a 404, a public file. */
  route: string | undefined;
  /** The response status, set before `asyncStart`. */
  status: number;
}

/** `quickstep.request.handler`: one call of a route's handler (a `pass()` makes a second one). */
export interface HandlerTrace extends Traced {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** The matched route's pattern. */
  readonly route: string;
}

/** `quickstep.session.load`: the store asked for the request's session. */
export interface SessionLoadTrace extends Traced {
  /** Whether the store knew the session (set before `asyncStart`). */
  found: boolean;
  /** The session's handle, once found. */
  handle: string | undefined;
}

/** `quickstep.session.flush`: what the request changed, stored. */
export interface SessionFlushTrace extends Traced {
  readonly handle: string;
  /** How many keys the request set, deleted, incremented or pushed to (a clear counts one). */
  readonly changed: number;
  /**
   * True when the store applied the change log to what it holds now, so concurrent requests keep
   * each other's writes (Memory, Redis, any store); false when the whole session was written
   * (the Cookie engine seals it into the cookie).
   */
  readonly merged: boolean;
  /** The session was created by this request. */
  readonly isNew: boolean;
}

/**
 * `quickstep.session.change_id`: the session given a new id. With changeIdAtFlush the store's
 * move comes later, in the flush (see the top of this file).
 */
export interface SessionChangeIdTrace extends Traced {
  readonly handle: string;
  /** The handle under the new id (set before `asyncStart`). */
  newHandle: string | undefined;
}

/** `quickstep.session.destroy`: the stored session deleted. */
export interface SessionDestroyTrace extends Traced {
  readonly handle: string;
}

/**
 * A TracingChannel with `hasSubscribers` (Node >= 20.13 and 22; @types/node 20 lacks it), whose
 * bound stores (`start.bindStore`) may hold anything.
 */
export interface QuickstepChannel<P extends object> extends TracingChannel<any, P> {
  readonly hasSubscribers: boolean;
}

const channel = <P extends object>(name: string) => tracingChannel<any, P>(name) as QuickstepChannel<P>;

/** Quickstep's channels, by what they trace; the names in the table at the top. */
export const channels = {
  request: channel<RequestTrace>('quickstep.request'),
  handler: channel<HandlerTrace>('quickstep.request.handler'),
  sessionLoad: channel<SessionLoadTrace>('quickstep.session.load'),
  sessionFlush: channel<SessionFlushTrace>('quickstep.session.flush'),
  sessionChangeId: channel<SessionChangeIdTrace>('quickstep.session.change_id'),
  sessionDestroy: channel<SessionDestroyTrace>('quickstep.session.destroy'),
} as const;

/**
 * Runs `run` as the start of the operation `payload` on `on`: `start` (its bound stores entered
 * for `run`), then `end`. A throw is published as `error`, then the operation is over
 * (asyncStart, asyncEnd) and the throw goes on.
 */
export function traceStart<P extends Traced, R>(on: QuickstepChannel<P>, payload: P, run: () => R): R {
  let threw = false;
  try {
    return on.start.runStores(payload, run);
  } catch (error) {
    threw = true;
    payload.error = error;
    on.error.publish(payload);
    throw error;
  } finally {
    on.end.publish(payload);
    if (threw) traceEnd(on, payload);
  }
}

/** The operation `payload` is over: `asyncStart`, `asyncEnd`. */
export function traceEnd<P extends Traced>(on: QuickstepChannel<P>, payload: P): void {
  on.asyncStart.publish(payload);
  on.asyncEnd.publish(payload);
}

/** The operation `payload` failed with `error`: `error`, then it is over. */
export function traceFailure<P extends Traced>(on: QuickstepChannel<P>, payload: P, error: unknown): void {
  payload.error = error;
  on.error.publish(payload);
  traceEnd(on, payload);
}

/**
 * `operation` traced as one operation on `on`, as TracingChannel.tracePromise does, except that
 * its value is never put in the payload (a Session holds its id): `settled` writes what may be
 * told of it. Callers check `on.hasSubscribers` first and build no payload otherwise.
 */
export function tracePromise<P extends Traced, T>(on: QuickstepChannel<P>, payload: P, operation: () => Promise<T>, settled?: (value: T) => void): Promise<T> {
  return traceStart(on, payload, operation).then(
    value => {
      settled?.(value);
      traceEnd(on, payload);
      return value;
    },
    error => {
      traceFailure(on, payload, error);
      throw error;
    },
  );
}
