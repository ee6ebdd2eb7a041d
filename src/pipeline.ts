/**
 * The request pipeline of DESIGN §2, in order: before hooks -> route (pass() tries the next) ->
 * after hooks -> the session commit (flush + Set-Cookie) -> the response is written, only after
 * the commit succeeded. See hooks.ts for which signals skip which step.
 *
 * It runs synchronously for as long as the hooks and the handler return plain values, and turns
 * asynchronous only at the first Promise: a route like `() => 'hello'` costs no Promise at all.
 * On Node 20 that matters twice, since AsyncLocalStorage's hooks make every Promise dearer.
 */
import type { Context } from './context.ts';
import { Halt, HttpError, Pass } from './errors.ts';
import type { Hooks } from './hooks.ts';
import type { Log } from './logger.ts';
import { checkHeaders } from './header-check.ts';
import { setErrorResponse, writeLastResort500, writeResponse } from './respond.ts';
import type { Router } from './router.ts';

/** A route handler. Its return value becomes the body (DESIGN §2); a Promise is awaited. */
export type Handler = (ctx: Context) => unknown;

/** What the pipeline needs from its app; read on every request, so settings changes apply. */
export interface PipelineParts {
  readonly router: Router<Handler>;
  readonly hooks: Hooks;
  log(): Log;
  /** True while the app is shutting down: responses then ask the client to close. */
  closing(): boolean;
}

const OK: unique symbol = Symbol('ok');

export class Pipeline {
  readonly #parts: PipelineParts;

  constructor(parts: PipelineParts) {
    this.#parts = parts;
  }

  /** Handles one request end to end. Never throws and never rejects. */
  readonly run = (ctx: Context): void => {
    let pending: Promise<void> | undefined;
    try {
      pending = this.#dispatch(ctx);
    } catch (error) {
      return this.#finish(ctx, error);
    }
    if (pending === undefined) this.#finish(ctx, OK);
    else pending.then(() => this.#finish(ctx, OK), error => this.#finish(ctx, error));
  };

  /** Hooks and route; undefined when all of it ran synchronously. */
  #dispatch(ctx: Context): Promise<void> | undefined {
    if (ctx.path.charCodeAt(0) !== 47 /* '/' */) throw new HttpError(400, 'The request target must be a path');
    if (this.#parts.hooks.before.length > 0) return this.#dispatchWithBeforeHooks(ctx);
    let routed: Promise<void> | undefined;
    try {
      routed = this.#route(ctx, 0);
    } catch (signal) {
      return this.#afterHooks(ctx, haltRunsAfterHooks(signal));
    }
    if (routed === undefined) return this.#afterHooks(ctx, true);
    // With no after hooks, a Halt rejection can go straight to #finish, which ends on it normally.
    if (this.#parts.hooks.after.length === 0) return routed;
    return routed.then(
      () => this.#afterHooks(ctx, true),
      signal => this.#afterHooks(ctx, haltRunsAfterHooks(signal)),
    );
  }

  async #dispatchWithBeforeHooks(ctx: Context): Promise<void> {
    let runAfterHooks = true;
    try {
      for (const hook of this.#parts.hooks.before) await hook(ctx);
      await this.#route(ctx, 0);
    } catch (signal) {
      runAfterHooks = haltRunsAfterHooks(signal);
    }
    await this.#afterHooks(ctx, runAfterHooks);
  }

  #afterHooks(ctx: Context, run: boolean): Promise<void> | undefined {
    return run && this.#parts.hooks.after.length > 0 ? this.#runAfterHooks(ctx) : undefined;
  }

  async #runAfterHooks(ctx: Context): Promise<void> {
    try {
      for (const hook of this.#parts.hooks.after) await hook(ctx);
    } catch (signal) {
      if (!(signal instanceof Halt)) throw signal;
    }
  }

  /** Runs the first matching route at or after `from`; `pass()` moves on. 404 / 405 when none. */
  #route(ctx: Context, from: number): Promise<void> | undefined {
    const router = this.#parts.router;
    for (;;) {
      const match = router.match(ctx.method, ctx.path, from);
      if (!match) return noRoute(ctx, router);
      ctx.routeParams = match.params;
      ctx.splat = match.splat;
      let result: unknown;
      try {
        result = match.handler(ctx);
      } catch (signal) {
        if (!(signal instanceof Pass)) throw signal;
        from = match.index + 1;
        continue;
      }
      if (!isThenable(result)) {
        if (result !== undefined) ctx.responseBody = result;
        return undefined;
      }
      const next = match.index + 1;
      return (result instanceof Promise ? result : Promise.resolve(result)).then(
        value => {
          if (value !== undefined) ctx.responseBody = value;
        },
        signal => {
          if (!(signal instanceof Pass)) throw signal;
          return this.#route(ctx, next);
        },
      );
    }
  }

  /** Error response (if any), then the session commit, then the bytes. */
  #finish(ctx: Context, outcome: unknown): void {
    const log = this.#parts.log();
    // A Halt that reaches here (a route's, with no after hooks to run) is an ordinary end.
    const error = outcome instanceof Halt ? OK : outcome;
    // An uncaught exception saves nothing: a failed request leaves the stored session as it was.
    const saveSession = error === OK || error instanceof HttpError;
    if (error !== OK) setErrorResponse(ctx, error, log);
    const state = ctx.sessionState;
    if (!saveSession || !state) return this.#write(ctx);
    let committed: ReturnType<typeof state.commit>;
    try {
      // Headers set straight on ctx.responseHeaders skipped header()'s check: a bad one must be
      // an uncaught 500 now, before the commit, not a failed writeHead after it (issue 8).
      checkHeaders(ctx.responseHeaders);
    } catch (failure) {
      setErrorResponse(ctx, failure, log);
      return this.#write(ctx);
    }
    try {
      committed = state.commit();
    } catch (failure) {
      setErrorResponse(ctx, failure, log);
      return this.#write(ctx);
    }
    if (typeof committed !== 'object') {
      if (committed !== undefined) ctx.appendSetCookie(committed);
      return this.#write(ctx);
    }
    committed.then(
      cookie => {
        if (cookie !== undefined) ctx.appendSetCookie(cookie);
        this.#write(ctx);
      },
      failure => {
        setErrorResponse(ctx, failure, log);
        this.#write(ctx);
      },
    );
  }

  #write(ctx: Context): void {
    // A connection left open after close() would sit idle and hold the shutdown until the
    // client or keepAliveTimeout drops it: ask the client to close it after this response.
    if (this.#parts.closing()) ctx.responseHeaders.connection = 'close';
    // Written in the check phase of this event-loop turn, not now: every request that became
    // readable in this turn is handled first, so the socket writes and the loop's own work are
    // shared by a batch instead of paid per request. Measured with bench/ under load: about a
    // third less server CPU per request; with a single client the response waits only for the
    // end of the current turn.
    setImmediate(writeOut, ctx, this.#parts);
  }
}

function writeOut(ctx: Context, parts: PipelineParts): void {
  try {
    writeResponse(ctx);
  } catch (error) {
    // Only reached if writing itself failed (e.g. an invalid header value): 500 if still possible.
    parts.log()('error', `failed to write a response: ${error instanceof Error ? error.stack : String(error)}`);
    writeLastResort500(ctx.res);
  }
}

/** For a Halt, whether user after hooks still run (redirect: yes, halt: no); rethrows the rest. */
function haltRunsAfterHooks(signal: unknown): boolean {
  if (!(signal instanceof Halt)) throw signal;
  return signal.runAfterHooks;
}

function noRoute(ctx: Context, router: Router<Handler>): never {
  const allowed = router.allowedMethods(ctx.path);
  if (allowed.length === 0 || allowed.includes(ctx.method)) throw new HttpError(404, `No route for ${ctx.method} ${ctx.path}`);
  ctx.responseHeaders.allow = allowed.join(', ');
  throw new HttpError(405, `${ctx.method} is not allowed here; allowed: ${allowed.join(', ')}`);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
