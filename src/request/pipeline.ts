/**
 * The request pipeline of DESIGN §2, each step written once, in order:
 *
 *   before hooks -> [CSRF check] -> route (pass() tries the next) -> after hooks -> session commit -> write
 *
 * The CSRF check (csrf-check.ts) runs after the before hooks, so that they can answer first (an
 * auth redirect) and their headers (CORS, security) are kept on its 403, and after the match,
 * because a route may opt out (`{ csrf: false }`). It runs once per request, for unsafe methods
 * only, and only where the route or the session's `csrf` setting asks for it.
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
 * | CSRF check fails (403)       | before the route     | the route, the after hooks              | yes           |
 * | anything else                | anywhere             | all that follows; a 500                 | no            |
 * | a session read not awaited   | anywhere             | the response decided without it; a 500  | no            |
 *
 * An uncaught exception saves nothing, so a failed request leaves the stored session as it was;
 * a 404, 405 or 4xx still saves it (a flash written before a redirect must survive).
 */
import type { Context } from './context.ts';
import type { AnyParams } from './route-params.ts';
import { respondWithError, type ErrorParts } from './error-response.ts';
import { Forward, Halt, HttpError, Pass } from '../base/errors.ts';
import type { Hooks } from './hooks.ts';
import type { Log } from '../base/logger.ts';
import { checkHeaders } from './header-check.ts';
import { isSafeMethod, verifyCsrf } from './csrf-check.ts';
import { writeLastResort500, writeResponse } from '../response/respond.ts';
import type { PublicFiles } from '../response/public-files.ts';
import type { RouteMatch, Router } from './router.ts';
import { isThenable, runHooks, sequence, type Step } from './steps.ts';
import { UnawaitedSessionReadError } from '../session/session-read.ts';

/**
 * A route handler. Its return value becomes the body (DESIGN §2); a Promise is awaited.
 * `Params` is the type of `ctx.params`, inferred from the route's pattern (route-params.ts).
 */
export type Handler<Params extends object = AnyParams> = (ctx: Context<Params>) => unknown;

/** What the pipeline needs from its app; read on every request, so settings changes apply. */
export interface PipelineParts {
  readonly router: Router<Handler>;
  readonly hooks: Hooks;
  log(): Log;
  /** True while the app is shutting down: responses then ask the client to close. */
  closing(): boolean;
  /** The public folder served before the routes (step 0), or undefined when static_handler is off. */
  readonly publicFiles: PublicFiles | undefined;
  /** The session's `csrf` setting: whether routes without their own `{ csrf }` option are checked. */
  readonly csrf: boolean;
}

const OK: unique symbol = Symbol('ok');

const nothing = (): Step => undefined;
const preloadBody = (ctx: Context): Step => ctx.preloadBody();
/** More forward() calls than this in one request is a loop. */
const MAX_FORWARDS = 10;
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

  /** Body (for param()), before hooks and route, then the after hooks (or what a signal says). */
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

  readonly #beforeHooksAndRoute = (ctx: Context): Step => sequence(ctx, this.#bodyThenBeforeHooks, this.#firstRoute, rethrow);
  readonly #bodyThenBeforeHooks = (ctx: Context): Step => sequence(ctx, preloadBody, this.#beforeHooks, rethrow);
  readonly #beforeHooks = (ctx: Context): Step => {
    const before = this.#parts.hooks.before;
    if (before.length === 0) return undefined;
    // An error response keeps the headers before hooks set (CORS, security headers).
    ctx.keptHeaders = ctx.responseHeaders;
    return runHooks(ctx, before, 0);
  };
  readonly #firstRoute = (ctx: Context): Step => {
    if (ctx.keptHeaders !== undefined) ctx.keptHeaders = { ...ctx.responseHeaders };
    return this.#route(ctx, 0);
  };

  /** The after hooks; a halt() or redirect() in one ends them normally. */
  readonly #afterHooks = (ctx: Context): Step => {
    const after = this.#parts.hooks.after;
    return after.length === 0 ? undefined : sequence(ctx, this.#runAfterHooks, nothing, endsOnHalt);
  };
  readonly #runAfterHooks = (ctx: Context): Step => runHooks(ctx, this.#parts.hooks.after, 0);

  /** A signal from a before hook or the route: a Halt decides whether after hooks run. */
  readonly #afterSignal = (ctx: Context, signal: unknown): Step => {
    if (!(signal instanceof Halt)) throw signal;
    ctx.pendingSignal = undefined;
    return signal.runAfterHooks ? this.#afterHooks(ctx) : undefined;
  };

  /** Runs the first matching route at or after `from`. 404 / 405 when none; OPTIONS answers 204. */
  #route(ctx: Context, from: number): Step {
    const router = this.#parts.router;
    const match = router.match(ctx.method, ctx.path, from);
    if (!match) return noRoute(ctx, router);
    ctx.params = match.params;
    ctx.splat = match.splat;
    if ((match.options.csrf ?? this.#parts.csrf) && !ctx.csrfChecked && !isSafeMethod(ctx.req.method)) {
      return verifyCsrf(ctx).then(() => {
        ctx.csrfChecked = true;
        return this.#run(ctx, match);
      });
    }
    return this.#run(ctx, match);
  }

  /** Runs the matched route's handler; a signal it throws goes to #routeSignal. */
  #run(ctx: Context, match: RouteMatch<Handler>): Step {
    const next = match.index + 1;
    let result: unknown;
    try {
      result = match.handler(ctx);
    } catch (signal) {
      return this.#routeSignal(ctx, signal, next);
    }
    if (!isThenable(result)) {
      if (ctx.pendingSignal !== undefined) return this.#routeSignal(ctx, ctx.pendingSignal, next);
      if (result !== undefined) ctx.responseBody = result;
      return undefined;
    }
    return (result instanceof Promise ? result : Promise.resolve(result)).then(
      value => {
        if (ctx.pendingSignal !== undefined) return this.#routeSignal(ctx, ctx.pendingSignal, next);
        if (value !== undefined) ctx.responseBody = value;
        return undefined;
      },
      signal => this.#routeSignal(ctx, signal, next),
    );
  }

  /** pass() tries the next match, forward() routes again from the top; the rest goes on up. */
  #routeSignal(ctx: Context, signal: unknown, next: number): Step {
    if (signal instanceof Pass) {
      ctx.pendingSignal = undefined;
      return this.#route(ctx, next);
    }
    if (signal instanceof Forward) {
      ctx.pendingSignal = undefined;
      if (++ctx.forwards > MAX_FORWARDS) throw new Error(`forward(): more than ${MAX_FORWARDS} forwards in one request (a loop?), last to ${signal.path}`);
      ctx.retarget(signal.path, signal.method);
      return this.#route(ctx, 0);
    }
    throw signal;
  }

  /** Error response (if any, through the error hooks), then the session commit, then the bytes. */
  #finish(ctx: Context, outcome: unknown): void {
    // A session read nobody awaited (session/session-read.ts): whatever the route decided was
    // decided without its value, so its response is not sent and nothing is saved.
    const unawaited = ctx.sessionState?.unawaitedRead();
    if (unawaited !== undefined && (outcome === OK || outcome instanceof HttpError)) {
      ctx.pendingSignal = undefined;
      outcome = new UnawaitedSessionReadError(unawaited);
    }
    if (outcome === OK && ctx.pendingSignal === undefined) return this.#commit(ctx);
    const error = outcome === OK ? ctx.pendingSignal : outcome;
    ctx.pendingSignal = undefined;
    const responded = respondWithError(ctx, error, this.#errorParts());
    // An uncaught exception saves nothing: a failed request leaves the stored session as it was.
    const next = error instanceof HttpError ? this.#commit : this.#write;
    if (responded === undefined) next(ctx);
    else responded.then(() => next(ctx));
  }

  /** The session commit (flush + Set-Cookie); a failed one becomes a 503. Then the bytes. */
  readonly #commit = (ctx: Context): void => {
    const state = ctx.sessionState;
    if (!state) return this.#write(ctx);
    let committed: ReturnType<typeof state.commit>;
    try {
      // Headers set straight on ctx.responseHeaders skipped header()'s check: a bad one must be
      // an uncaught 500 now, before the commit, not a failed writeHead after it (issue 8).
      checkHeaders(ctx.responseHeaders);
    } catch (failure) {
      return this.#errorThenWrite(ctx, failure);
    }
    try {
      committed = state.commit();
    } catch (failure) {
      return this.#errorThenWrite(ctx, failure);
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
      failure => this.#errorThenWrite(ctx, failure),
    );
  };

  #errorParts(): ErrorParts {
    const parts = this.#parts;
    return { hooks: parts.hooks, log: parts.log(), publicFiles: parts.publicFiles };
  }

  /** The error's response, without a commit (a failed commit, or a 500 found just before it). */
  #errorThenWrite(ctx: Context, failure: unknown): void {
    const responded = respondWithError(ctx, failure, this.#errorParts());
    if (responded === undefined) this.#write(ctx);
    else responded.then(() => this.#write(ctx));
  }

  readonly #write = (ctx: Context): void => {
    // A connection left open after close() would sit idle and hold the shutdown until the
    // client or keepAliveTimeout drops it: ask the client to close it after this response.
    if (this.#parts.closing()) ctx.responseHeaders.connection = 'close';
    // Written in the check phase of this event-loop turn, not now: every request that became
    // readable in this turn is handled first, so the socket writes and the loop's own work are
    // shared by a batch instead of paid per request. Measured with bench/ under load: about a
    // third less server CPU per request; with a single client the response waits only for the
    // end of the current turn.
    setImmediate(writeOut, ctx, this.#parts);
  };
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

/** A Halt in an after hook ends the after hooks as a normal end; anything else goes on. */
function endsOnHalt(ctx: Context, signal: unknown): Step {
  if (!(signal instanceof Halt)) throw signal;
  ctx.pendingSignal = undefined;
  return undefined;
}

function noRoute(ctx: Context, router: Router<Handler>): Step {
  const allowed = router.allowedMethods(ctx.path);
  if (allowed.length === 0 || allowed.includes(ctx.method)) throw new HttpError(404, `No route for ${ctx.method} ${ctx.path}`);
  if (ctx.method === 'OPTIONS') {
    // A known path: say what it allows (hooks may add CORS headers), as a preflight expects.
    ctx.responseStatus = 204;
    ctx.responseHeaders.allow = [...allowed, 'OPTIONS'].join(', ');
    return undefined;
  }
  const allow = allowed.join(', ');
  throw new HttpError(405, `${ctx.method} is not allowed here; allowed: ${allow}`, { headers: { allow } });
}
