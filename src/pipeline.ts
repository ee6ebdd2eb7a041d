/**
 * The request pipeline of DESIGN §2, each step written once, in order:
 *
 *   before hooks -> route (pass() tries the next) -> after hooks -> session commit -> write
 *
 * Steps follow each other through `sequence`, the one way to chain a step that may or may not
 * return a Promise: the pipeline runs synchronously for as long as the hooks and the handler
 * return plain values, and turns asynchronous only at the first Promise, so a route like
 * `() => 'hello'` costs no Promise at all. On Node 20 that matters twice, since
 * AsyncLocalStorage's hooks make every Promise dearer.
 *
 * Which signal skips which step (the signals are in errors.ts):
 *
 * | thrown                       | where                | skips                                   | session saved |
 * |------------------------------|----------------------|-----------------------------------------|---------------|
 * | `halt(body?)`                | before hook or route | the rest of the route, the after hooks  | yes           |
 * | `redirect(url)`              | before hook or route | the rest of the route                   | yes           |
 * | `halt()` / `redirect()`      | after hook           | the remaining after hooks               | yes           |
 * | `pass()`                     | route                | this route: the next match runs         | —             |
 * | `sendError()` / HttpError    | anywhere             | all that follows; its error response    | yes           |
 * | anything else                | anywhere             | all that follows; a 500                 | no            |
 *
 * An uncaught exception saves nothing, so a failed request leaves the stored session as it was;
 * a 404, 405 or 4xx still saves it (a flash written before a redirect must survive).
 */
import type { Context } from './context.ts';
import { Halt, HttpError, Pass } from './errors.ts';
import type { Hook, Hooks } from './hooks.ts';
import type { Log } from './logger.ts';
import type { PublicFiles } from './public-files.ts';
import { setErrorResponse, writeResponse } from './respond.ts';
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
  /** The public folder served before the routes (step 0), or undefined when static_handler is off. */
  readonly publicFiles: PublicFiles | undefined;
}

/** A step's outcome: undefined when it finished synchronously, else the Promise of its end. */
type Step = void | Promise<void>;
type StepFn = (ctx: Context) => Step;

const OK: unique symbol = Symbol('ok');

/**
 * Runs `first(ctx)`, then `next(ctx)`, or `recover(ctx, error)` when `first` throws or rejects;
 * synchronously while `first` returns no Promise.
 */
function sequence(ctx: Context, first: StepFn, next: StepFn, recover: (ctx: Context, error: unknown) => Step): Step {
  let result: Step;
  try {
    result = first(ctx);
  } catch (error) {
    return recover(ctx, error);
  }
  if (result === undefined) return next(ctx);
  return result.then(() => next(ctx), error => recover(ctx, error));
}

/** Runs `hooks` from index `from` in order, synchronously until one returns a thenable. */
function runHooks(ctx: Context, hooks: readonly Hook[], from: number): Step {
  for (let i = from; i < hooks.length; i++) {
    const result = hooks[i]!(ctx);
    if (isThenable(result)) return Promise.resolve(result).then(() => runHooks(ctx, hooks, i + 1));
  }
  return undefined;
}

const nothing = (): Step => undefined;
const rethrow = (_ctx: Context, error: unknown): never => {
  throw error;
};

export class Pipeline {
  readonly #parts: PipelineParts;

  constructor(parts: PipelineParts) {
    this.#parts = parts;
  }

  /** Handles one request end to end. Never throws and never rejects. */
  readonly run = (ctx: Context): void => {
    let pending: Step;
    try {
      pending = this.#dispatch(ctx);
    } catch (error) {
      return this.#finish(ctx, error);
    }
    if (pending === undefined) this.#finish(ctx, OK);
    else pending.then(() => this.#finish(ctx, OK), error => this.#finish(ctx, error));
  };

  /** Before hooks and route, then the after hooks (or what a signal says instead). */
  #dispatch(ctx: Context): Step {
    if (ctx.path.charCodeAt(0) !== 47 /* '/' */) throw new HttpError(400, 'The request target must be a path');
    // Step 0, public files: a path that cannot name one is decided without I/O (public-files.ts).
    const found = ctx.method === 'GET' || ctx.method === 'HEAD' ? this.#parts.publicFiles?.find(ctx.path) : undefined;
    if (found !== undefined) return found.then(file => (file === undefined ? this.#hooksAndRoute(ctx) : void (ctx.responseBody = file)));
    return this.#hooksAndRoute(ctx);
  }

  #hooksAndRoute(ctx: Context): Step {
    return sequence(ctx, this.#beforeHooksAndRoute, this.#afterHooks, this.#afterSignal);
  }

  readonly #beforeHooksAndRoute = (ctx: Context): Step => sequence(ctx, this.#beforeHooks, this.#firstRoute, rethrow);
  readonly #beforeHooks = (ctx: Context): Step => runHooks(ctx, this.#parts.hooks.before, 0);
  readonly #firstRoute = (ctx: Context): Step => this.#route(ctx, 0);

  /** The after hooks; a halt() or redirect() in one ends them normally. */
  readonly #afterHooks = (ctx: Context): Step => {
    const after = this.#parts.hooks.after;
    return after.length === 0 ? undefined : sequence(ctx, this.#runAfterHooks, nothing, endsOnHalt);
  };
  readonly #runAfterHooks = (ctx: Context): Step => runHooks(ctx, this.#parts.hooks.after, 0);

  /** A signal from a before hook or the route: a Halt decides whether after hooks run. */
  readonly #afterSignal = (ctx: Context, signal: unknown): Step => {
    if (!(signal instanceof Halt)) throw signal;
    return signal.runAfterHooks ? this.#afterHooks(ctx) : undefined;
  };

  /** Runs the first matching route at or after `from`; `pass()` moves on. 404 / 405 when none. */
  #route(ctx: Context, from: number): Step {
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
    const error = outcome;
    // An uncaught exception saves nothing: a failed request leaves the stored session as it was.
    const saveSession = error === OK || error instanceof HttpError;
    if (error !== OK) setErrorResponse(ctx, error, log);
    const state = ctx.sessionState;
    if (!saveSession || !state) return this.#write(ctx);
    let committed: ReturnType<typeof state.commit>;
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
    if (!ctx.res.headersSent) ctx.res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    ctx.res.end();
  }
}

/** A Halt in an after hook ends the after hooks as a normal end; anything else goes on. */
function endsOnHalt(_ctx: Context, signal: unknown): Step {
  if (!(signal instanceof Halt)) throw signal;
  return undefined;
}

function noRoute(ctx: Context, router: Router<Handler>): never {
  const allowed = router.allowedMethods(ctx.path);
  if (allowed.length === 0 || allowed.includes(ctx.method)) throw new HttpError(404, `No route for ${ctx.method} ${ctx.path}`);
  const allow = allowed.join(', ');
  throw new HttpError(405, `${ctx.method} is not allowed here; allowed: ${allow}`, { headers: { allow } });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
