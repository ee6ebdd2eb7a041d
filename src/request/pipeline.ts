/**
 * The request pipeline, each step written once, in order:
 *
 *   public file -> [DBSC endpoint] -> body -> before hooks -> [cross-site lock] -> [input schemas]
 *     -> [bound cookie] -> [CSRF token] -> [recent auth] -> route (pass() tries the next) -> after hooks
 *     -> session commit -> write
 *
 * The CSRF check (csrf-check.ts: the Sec-Fetch-Site lock, then the token) runs after the before hooks, so that they can answer first (an
 * auth redirect) and their headers (CORS, security) are kept on its 403, and after the match,
 * because a route may opt out (`{ csrf: false }`). It runs for unsafe methods only: the
 * Sec-Fetch-Site lock on every route that did not opt out, the token once per request, where the
 * route or the session's `csrf` setting asks for it.
 *
 * The steps up to the after hooks are one list (STEPS), run by one loop (`Pipeline.#from`): it
 * runs synchronously for as long as the hooks and the handler return plain values, and turns
 * asynchronous only at the first Promise, so a route like `() => 'hello'` costs no Promise at
 * all, and no AsyncLocalStorage frame is captured by one.
 * Then `#finish`: the error response if any, the session commit, the write.
 *
 * Which signal skips which step (the signals are in errors.ts; ON_SIGNAL below is the part of
 * this table the loop reads, pass() and forward() are the route step's own):
 *
 * | thrown                       | where                | skips                                   | session saved |
 * |------------------------------|----------------------|-----------------------------------------|---------------|
 * | `halt(body?)`                | before hook or route | the rest of the route, the after hooks  | yes           |
 * | `redirect(url)`              | before hook or route | the rest of the route                   | yes           |
 * | `halt()` / `redirect()`      | after hook           | the remaining after hooks               | yes           |
 * | `pass()`                     | route                | this route: the next match runs         | —             |
 * | `sendError()` / HttpError    | anywhere             | all that follows; its error response    | yes           |
 * | CSRF/cross-site check (403)  | before the route     | the route, the after hooks              | yes           |
 * | invalid input (400)          | before the route     | the token check, the route, after hooks | yes           |
 * | anything else                | anywhere             | all that follows; a 500                 | no            |
 * | a session read not awaited   | anywhere             | the response decided without it; a 500  | no            |
 *
 * An uncaught exception saves nothing, so a failed request leaves the stored session as it was;
 * a 404, 405 or 4xx still saves it (a flash written before a redirect must survive).
 */
import { clearSignal, pendingSignal, pipelineState, responseOf, sessionOf, type Context, type NoValidInput } from './context.ts';
import type { AnyParams } from './route-params.ts';
import { respondWithError, type ErrorParts } from './error-response.ts';
import { Forward, Halt, HttpError, Pass } from '../base/errors.ts';
import type { Hooks } from './hooks.ts';
import type { Log } from '../base/logger.ts';
import { checkHeaders } from './header-check.ts';
import { markPrivate } from './private-response.ts';
import { isSafeMethod, refuseCrossSite, verifyCsrf } from './csrf-check.ts';
import { requireRecentAuth } from './recent-auth.ts';
import { writeLastResort500, writeResponse } from '../response/respond.ts';
import type { PublicFiles } from '../response/public-files.ts';
import type { RouteMatch, Router } from './router.ts';
import { isThenable, type Step } from './steps.ts';
import { UnawaitedSessionReadError } from '../session/session-read.ts';
import { channels } from '../base/tracing.ts';
import { traceHandler } from './request-trace.ts';
import { validateInput } from './validation/input.ts';
import type { DeviceBinding } from './dbsc/device-binding.ts';

/**
 * A route handler. Its return value becomes the body; a Promise is awaited.
 * `Params` is the type of `ctx.params`, inferred from the route's pattern (route-params.ts);
 * `Valid` the type of `ctx.valid`, from the route's schemas (validation/input.ts).
 */
export type Handler<Params extends object = AnyParams, Valid = NoValidInput> = (ctx: Context<Params, Valid>) => unknown;

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
  /** DBSC's endpoints and route check (dbsc/device-binding.ts), or undefined when the `dbsc` setting is off. */
  readonly deviceBinding: DeviceBinding | undefined;
  /** The session's `reauth_redirect` setting: where a `{ recentAuth }` route sends a stale login. */
  readonly reauthRedirect: string | undefined;
}

/** What a step returned that ends the steps: the response is decided (a public file, a halt). */
const END: unique symbol = Symbol('end');
/** A step's outcome: go on (undefined), END, or the Promise of either. */
type Outcome = void | typeof END | Promise<void | typeof END>;

type StepName = 'public file' | 'dbsc' | 'body' | 'before' | 'route' | 'after';

/** The steps up to the after hooks, in order; #from runs them. */
const STEPS: readonly { readonly name: StepName; run(pipeline: Pipeline, ctx: Context): Outcome }[] = [
  // Step 0, public files: a path that cannot name one is decided without I/O (public-files.ts).
  { name: 'public file', run: (pipeline, ctx) => pipeline.publicFile(ctx) },
  // DBSC's registration and refresh endpoints (dbsc/device-binding.ts): before the hooks, so no
  // hook's CORS headers reach them; nothing at all with the setting off.
  { name: 'dbsc', run: (pipeline, ctx) => pipeline.dbscEndpoint(ctx) },
  // A form or JSON body is read now, for the synchronous param() (request-data.ts).
  { name: 'body', run: (_pipeline, ctx) => ctx.preloadBody() },
  { name: 'before', run: (pipeline, ctx) => pipeline.beforeHooks(ctx) },
  { name: 'route', run: (pipeline, ctx) => pipeline.firstRoute(ctx) },
  { name: 'after', run: (pipeline, ctx) => pipeline.afterHooks(ctx) },
];
const STEP_INDEX = Object.fromEntries(STEPS.map((step, i) => [step.name, i])) as Record<StepName, number>;

/**
 * The signal table as data: where a Halt thrown in a step sends the request (`halt` for
 * `halt()`, `redirect` for a Halt that keeps the after hooks). A step name: go on with that step;
 * END: the response is decided. Any other signal or error, or a Halt from a step not listed,
 * goes to its error response.
 */
const ON_SIGNAL: Readonly<Record<'halt' | 'redirect', Partial<Record<StepName, StepName | typeof END>>>> = {
  halt: { before: END, route: END, after: END },
  redirect: { before: 'after', route: 'after', after: END },
};

const OK: unique symbol = Symbol('ok');

/** More forward() calls than this in one request is a loop. */
const MAX_FORWARDS = 10;

export class Pipeline {
  readonly #parts: PipelineParts;

  constructor(parts: PipelineParts) {
    this.#parts = parts;
  }

  /** Handles one request end to end. Never throws and never rejects. */
  readonly run = (ctx: Context): void => {
    let pending: Step;
    try {
      pending = this.#from(ctx, 0);
    } catch (error) {
      return this.#finish(ctx, error);
    }
    if (pending === undefined) this.#finish(ctx, OK);
    else pending.then(() => this.#finish(ctx, OK), error => this.#finish(ctx, error));
  };

  /**
   * The loop: STEPS from `i` on, synchronously while each returns no Promise. A signal a step
   * throws goes where ON_SIGNAL says; anything else is thrown (or rejected) to #finish.
   */
  #from(ctx: Context, i: number): Step {
    for (; i < STEPS.length; i++) {
      let outcome: Outcome;
      try {
        outcome = STEPS[i]!.run(this, ctx);
      } catch (signal) {
        i = afterSignal(ctx, i, signal) - 1;
        continue;
      }
      if (outcome === END) return undefined;
      if (outcome !== undefined) {
        const step = i;
        return outcome.then(
          value => (value === END ? undefined : this.#from(ctx, step + 1)),
          signal => this.#from(ctx, afterSignal(ctx, step, signal)),
        );
      }
    }
    return undefined;
  }

  /** Step 0: a GET or HEAD for a file of the public folder is answered with it. */
  publicFile(ctx: Context): Outcome {
    if (ctx.path.charCodeAt(0) !== 47 /* '/' */) throw new HttpError(400, 'The request target must be a path');
    const found = ctx.method === 'GET' || ctx.method === 'HEAD' ? this.#parts.publicFiles?.find(ctx.path) : undefined;
    if (found === undefined) return undefined;
    return found.then(file => {
      if (file === undefined) return undefined;
      responseOf(ctx).body = file;
      return END;
    });
  }

  dbscEndpoint(ctx: Context): Outcome {
    const served = this.#parts.deviceBinding?.serve(ctx);
    return served === undefined ? undefined : served.then(() => END);
  }

  beforeHooks(ctx: Context): Step {
    const hooks = this.#parts.hooks;
    if (hooks.before.length === 0) return undefined;
    // An error response keeps the headers before hooks set (CORS, security headers).
    const response = responseOf(ctx);
    response.kept = response.headers;
    return hooks.runRequestHooks('before', ctx);
  }

  firstRoute(ctx: Context): Step {
    const response = responseOf(ctx);
    if (response.kept !== undefined) response.kept = { ...response.headers };
    return this.#route(ctx, 0);
  }

  afterHooks(ctx: Context): Step {
    const hooks = this.#parts.hooks;
    return hooks.after.length === 0 ? undefined : hooks.runRequestHooks('after', ctx);
  }

  /** Runs the first matching route at or after `from`. 404 / 405 when none; OPTIONS answers 204. */
  #route(ctx: Context, from: number): Step {
    const router = this.#parts.router;
    const match = router.match(ctx.method, ctx.path, from);
    if (!match) return noRoute(ctx, router);
    ctx.params = match.params;
    ctx.splat = match.splat;
    const options = match.options;
    const csrf = options.csrf;
    // `{ csrf: false }` opts a route out of both locks (a SAML or payment provider's cross-site
    // POST needs both off); a safe method reads no header here.
    const unsafe = csrf !== false && !isSafeMethod(ctx.req.method);
    if (unsafe) refuseCrossSite(ctx);
    // The route's schemas (validation/input.ts), before the token check: bad input costs no store read.
    if (options.params !== undefined || options.query !== undefined || options.body !== undefined) {
      const validated = validateInput(ctx, options);
      if (validated !== undefined) return validated.then(() => this.#checkBound(ctx, match, unsafe));
    }
    return this.#checkBound(ctx, match, unsafe);
  }

  /** `{ deviceBound: true }` (the option needs the dbsc setting: app.ts): the bound cookie, before the token. */
  #checkBound(ctx: Context, match: RouteMatch<Handler>, unsafe: boolean): Step {
    const binding = match.options.deviceBound === true ? this.#parts.deviceBinding : undefined;
    if (binding !== undefined) return binding.requireBound(ctx).then(() => this.#checkToken(ctx, match, unsafe));
    return this.#checkToken(ctx, match, unsafe);
  }

  /** The CSRF token check where the route or the `csrf` setting asks for it, then the handler. */
  #checkToken(ctx: Context, match: RouteMatch<Handler>, unsafe: boolean): Step {
    if (unsafe && (match.options.csrf ?? this.#parts.csrf) && !pipelineState(ctx).csrfChecked) {
      return verifyCsrf(ctx).then(() => {
        pipelineState(ctx).csrfChecked = true;
        return this.#checkAuth(ctx, match);
      });
    }
    return this.#checkAuth(ctx, match);
  }

  /** A `{ recentAuth }` route's check (recent-auth.ts), then the handler; other routes go straight on. */
  #checkAuth(ctx: Context, match: RouteMatch<Handler>): Step {
    const seconds = match.options.recentAuth;
    if (seconds === undefined) return this.#run(ctx, match);
    return requireRecentAuth(ctx, seconds, this.#parts.reauthRedirect).then(() => this.#run(ctx, match));
  }

  /** Runs the matched route's handler; a signal it throws goes to #routeSignal. */
  #run(ctx: Context, match: RouteMatch<Handler>): Step {
    const next = match.index + 1;
    let result: unknown;
    try {
      // Traced (request-trace.ts) only while someone subscribes: else this one check.
      result = channels.request.hasSubscribers || channels.handler.hasSubscribers ? traceHandler(ctx, this.#parts.router.pattern(match.index), match.handler) : match.handler(ctx);
    } catch (signal) {
      return this.#routeSignal(ctx, signal, next);
    }
    if (!isThenable(result)) {
      const caught = pendingSignal(ctx);
      if (caught !== undefined) return this.#routeSignal(ctx, caught, next);
      if (result !== undefined) responseOf(ctx).body = result;
      return undefined;
    }
    return (result instanceof Promise ? result : Promise.resolve(result)).then(
      value => {
        const caught = pendingSignal(ctx);
        if (caught !== undefined) return this.#routeSignal(ctx, caught, next);
        if (value !== undefined) responseOf(ctx).body = value;
        return undefined;
      },
      signal => this.#routeSignal(ctx, signal, next),
    );
  }

  /** pass() tries the next match, forward() routes again from the top; the rest goes on up. */
  #routeSignal(ctx: Context, signal: unknown, next: number): Step {
    if (signal instanceof Pass) {
      clearSignal(ctx);
      // The next route's `ctx.valid` is its own schemas' (or none), never this route's.
      pipelineState(ctx).valid = undefined;
      return this.#route(ctx, next);
    }
    if (signal instanceof Forward) {
      clearSignal(ctx);
      pipelineState(ctx).valid = undefined;
      if (++pipelineState(ctx).forwards > MAX_FORWARDS) throw new Error(`forward(): more than ${MAX_FORWARDS} forwards in one request (a loop?), last to ${signal.path}`);
      ctx.retarget(signal.path, signal.method);
      return this.#route(ctx, 0);
    }
    throw signal;
  }

  /** Error response (if any, through the error hooks), then the session commit, then the bytes. */
  #finish(ctx: Context, outcome: unknown): void {
    // A session read nobody awaited (session/session-read.ts): whatever the route decided was
    // decided without its value, so its response is not sent and nothing is saved.
    const unawaited = sessionOf(ctx)?.unawaitedRead();
    if (unawaited !== undefined && (outcome === OK || outcome instanceof HttpError)) {
      clearSignal(ctx);
      outcome = new UnawaitedSessionReadError(unawaited);
    }
    const caught = pendingSignal(ctx);
    if (outcome === OK && caught === undefined) return this.#commit(ctx);
    const error = outcome === OK ? caught : outcome;
    clearSignal(ctx);
    const responded = respondWithError(ctx, error, this.#errorParts());
    // An uncaught exception saves nothing: a failed request leaves the stored session as it was.
    const next = error instanceof HttpError ? this.#commit : this.#write;
    if (responded === undefined) next(ctx);
    else responded.then(() => next(ctx));
  }

  /** The session commit (flush + Set-Cookie); a failed one becomes a 503. Then the bytes. */
  readonly #commit = (ctx: Context): void => {
    const state = sessionOf(ctx);
    if (!state) return this.#write(ctx);
    const response = responseOf(ctx);
    let committed: ReturnType<typeof state.commit>;
    try {
      // Headers set straight on ctx.responseHeaders skipped header()'s check: a bad one must be
      // an uncaught 500 now, before the commit, not a failed writeHead after it.
      checkHeaders(response.headers);
    } catch (failure) {
      return this.#errorThenWrite(ctx, failure);
    }
    try {
      committed = state.commit();
    } catch (failure) {
      return this.#errorThenWrite(ctx, failure);
    }
    const binding = this.#parts.deviceBinding;
    if (typeof committed !== 'object') {
      if (committed !== undefined) response.appendSetCookie(committed);
      binding?.decorate(ctx, state, response);
      return this.#write(ctx);
    }
    committed.then(
      cookie => {
        if (cookie !== undefined) response.appendSetCookie(cookie);
        binding?.decorate(ctx, state, response);
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
    if (this.#parts.closing()) responseOf(ctx).headers.connection = 'close';
    // A response built from a session is private (private-response.ts); one that never used the
    // session part is left as the route made it, at the cost of this one field read.
    const session = sessionOf(ctx);
    if (session !== undefined) markPrivate(responseOf(ctx), session);
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
    writeResponse(responseOf(ctx), ctx, parts.log());
  } catch (error) {
    // Only reached if writing itself failed (e.g. an invalid header value): 500 if still possible.
    parts.log()('error', `failed to write a response: ${error instanceof Error ? error.stack : String(error)}`);
    writeLastResort500(ctx.res);
  }
}

/**
 * Where the loop goes on after `signal` was thrown in STEPS[step]: the index of the next step
 * (STEPS.length: none, the response is decided), as ON_SIGNAL says; anything it does not list
 * is thrown on, to #finish.
 */
function afterSignal(ctx: Context, step: number, signal: unknown): number {
  if (!(signal instanceof Halt)) throw signal;
  const next = ON_SIGNAL[signal.runAfterHooks ? 'redirect' : 'halt'][STEPS[step]!.name];
  if (next === undefined) throw signal;
  clearSignal(ctx);
  return next === END ? STEPS.length : STEP_INDEX[next];
}

function noRoute(ctx: Context, router: Router<Handler>): Step {
  const allowed = router.allowedMethods(ctx.path);
  if (allowed.length === 0 || allowed.includes(ctx.method)) throw new HttpError(404, `No route for ${ctx.method} ${ctx.path}`);
  if (ctx.method === 'OPTIONS') {
    // A known path: say what it allows (hooks may add CORS headers), as a preflight expects.
    const response = responseOf(ctx);
    response.status = 204;
    response.headers.allow = [...allowed, 'OPTIONS'].join(', ');
    return undefined;
  }
  const allow = allowed.join(', ');
  throw new HttpError(405, `${ctx.method} is not allowed here; allowed: ${allow}`, { headers: { allow } });
}
