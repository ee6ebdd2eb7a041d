/**
 * Hooks: their names, the lists an app keeps, and the one runner every kind goes through, with
 * each kind's failure rule declared in RULES below.
 *
 * Per request: before hooks (registration order) -> route handler -> after hooks (registration
 * order) -> the session commit -> the response is written; the table of which signal skips
 * which step is in pipeline.ts. On the way to an error response (error-response.ts):
 * `on_route_exception` (uncaught exceptions only, first), then `before_error` (every error
 * response: 404, 405, sendError, HttpError, 500, 503). The `session.*` hooks run when the
 * request's session does what they name (session/request-session.ts reports it).
 *
 * The runner is synchronous for as long as the hooks return plain values: it makes a Promise
 * only when a hook returns one, so an app whose hooks are plain functions pays no Promise.
 */
import { clearSignal, pendingSignal, type Context } from './context.ts';
import { Halt } from '../base/errors.ts';
import type { Log } from '../base/logger.ts';
import { isThenable, type Step } from './steps.ts';

/** A hook gets the request's Context; it may return a Promise, which is awaited. */
export type Hook = (ctx: Context) => unknown;
/** An error hook also gets the error: an HttpError, or what an uncaught throw threw. */
export type ErrorHook = (ctx: Context, error: unknown) => unknown;
/** A session hook gets the session id (and, for session.id_changed, the old one). */
export type SessionHook = (ctx: Context, id: string, previousId?: string) => unknown;

const SESSION_HOOKS = ['session.created', 'session.loaded', 'session.id_changed', 'session.destroyed', 'session.flushed', 'session.id_guessing'] as const;
export type SessionHookName = (typeof SESSION_HOOKS)[number];

export const HOOK_NAMES = ['before', 'after', 'before_error', 'on_route_exception', ...SESSION_HOOKS] as const;
export type HookName = (typeof HOOK_NAMES)[number];
/** The hooks on the way to an error response (error-response.ts runs them). */
export type ErrorHookName = 'before_error' | 'on_route_exception';

/** Aliases Dancer2 users know. */
const ALIASES: Record<string, HookName> = { before_request: 'before', after_request: 'after' };

/** What one kind of hook's failure (a throw or a rejection) does, and what its return value does. */
interface HookRule {
  /**
   * `'throw'`: the failure is the request's, as if the route had thrown it (its error response,
   * or what the signal table in pipeline.ts says for a signal). `'stop'`: it is logged (a Halt
   * quietly) and ends the list; the response is sent as it stands. `'next'`: it is logged and
   * the next hook runs.
   */
  readonly onFailure: 'throw' | 'stop' | 'next';
  /**
   * A signal (halt, redirect, sendError...) the hook threw and caught itself
   * (`try { halt() } catch {}`): `'keep'` it takes effect, as it does in a route; `'drop'` it is
   * forgotten when the hooks end; `'leave'` it is none of the hooks' business (a session hook
   * runs inside the route's await, and the route's own signal must survive it).
   */
  readonly caughtSignal: 'keep' | 'drop' | 'leave';
  /** Whether a value the hook returns (or resolves to) becomes the response body, as a route's does. */
  readonly returnIsBody: boolean;
  /** The log line of a failure, for the rules that log one. */
  failed?(ctx: Context, name: HookName, text: string): string;
}

const RULES: Record<'before' | 'after' | ErrorHookName | 'session', HookRule> = {
  // The request's own steps: a hook that fails fails the request.
  before: { onFailure: 'throw', caughtSignal: 'keep', returnIsBody: false },
  after: { onFailure: 'throw', caughtSignal: 'keep', returnIsBody: false },
  // On the way to an error response: an error page must never turn into a crash or a hung request.
  on_route_exception: { onFailure: 'stop', caughtSignal: 'drop', returnIsBody: false, failed: errorHookFailed },
  before_error: { onFailure: 'stop', caughtSignal: 'drop', returnIsBody: true, failed: errorHookFailed },
  // For auditing and metrics: the store operation has already happened, so a failure loses nothing.
  session: { onFailure: 'next', caughtSignal: 'leave', returnIsBody: false, failed: (_ctx, name, text) => `a ${name} hook failed (the session operation itself succeeded): ${text}` },
};

function errorHookFailed(ctx: Context, name: HookName, text: string): string {
  return `${ctx.method} ${ctx.path}: a ${name} hook failed, so the error response is sent as it stands: ${text}`;
}

export class Hooks {
  readonly before: Hook[] = [];
  readonly after: Hook[] = [];
  /** May change the error response: status, headers, body (e.g. render a page). */
  readonly before_error: ErrorHook[] = [];
  /** Sees an uncaught exception before its 500 is made (to report it); cannot change it. */
  readonly on_route_exception: ErrorHook[] = [];
  /**
   * Dancer2's engine.session.* hooks, for auditing and metrics: `session.created` (a new session
   * is first stored), `session.loaded` (read from the store), `session.id_changed`,
   * `session.destroyed`, `session.flushed` (after each save); and `session.id_guessing`, given the
   * client's address, when a client passes unknown_id_limit (session/abuse/). Awaited; one that fails is logged
   * and loses nothing (the store operation has already happened).
   */
  readonly session: Record<SessionHookName, SessionHook[]> = {
    'session.created': [], 'session.loaded': [], 'session.id_changed': [], 'session.destroyed': [], 'session.flushed': [], 'session.id_guessing': [],
  };
  /** Whether any session hook is registered (requests then pay for reporting events). */
  hasSessionHooks = false;

  /** Registers `hook` under `name`; an unknown name throws at once, listing the known ones. */
  add(name: 'before' | 'after' | 'before_request' | 'after_request', hook: Hook): void;
  add(name: ErrorHookName, hook: ErrorHook): void;
  add(name: SessionHookName, hook: SessionHook): void;
  add(name: string, hook: Hook | ErrorHook | SessionHook): void;
  add(name: string, hook: Hook | ErrorHook | SessionHook): void {
    const known = (HOOK_NAMES as readonly string[]).includes(name) ? (name as HookName) : ALIASES[name];
    if (!known) {
      throw new TypeError(`Unknown hook "${name}". Known hooks: ${[...HOOK_NAMES, ...Object.keys(ALIASES)].join(', ')}`);
    }
    if (typeof hook !== 'function') throw new TypeError(`hook("${name}", ...) needs a function`);
    if (known.startsWith('session.')) {
      this.session[known as SessionHookName].push(hook as SessionHook);
      this.hasSessionHooks = true;
    } else {
      (this[known as 'before'] as unknown[]).push(hook);
    }
  }

  /** Runs the before or after hooks of `ctx`; a failure or a signal is the request's (RULES). */
  runRequestHooks(name: 'before' | 'after', ctx: Context): Step {
    return runHooks(RULES[name], name, this[name], ctx, NO_ARG, NO_ARG, undefined, 0);
  }

  /** Runs the `name` hooks for `error`; a failure is logged and ends them (RULES). */
  runErrorHooks(name: ErrorHookName, ctx: Context, error: unknown, log: Log): Step {
    return runHooks(RULES[name], name, this[name], ctx, error, NO_ARG, log, 0);
  }

  /** Runs the hooks of a session event in order; a failure is logged, never thrown (RULES). */
  runSessionHooks(event: SessionHookName, ctx: Context, id: string, previousId: string | undefined, log: Log): Step {
    return runHooks(RULES.session, event, this.session[event], ctx, id, previousId, log, 0);
  }
}

/** Marks an argument a hook kind does not take, so that each kind is called with its own arity. */
const NO_ARG: unique symbol = Symbol('no argument');
type Arg = unknown;

/**
 * The one hook runner: `list` from `from` in order under `rule`, synchronously until a hook
 * returns a thenable. Undefined when all ran synchronously, else the Promise of the end.
 */
function runHooks(rule: HookRule, name: HookName, list: readonly Function[], ctx: Context, a: Arg, b: Arg, log: Log | undefined, from: number): Step {
  for (let i = from; i < list.length; i++) {
    let result: unknown;
    try {
      const hook = list[i]!;
      result = a === NO_ARG ? hook(ctx) : b === NO_ARG ? hook(ctx, a) : hook(ctx, a, b);
      if (!isThenable(result)) afterHook(rule, ctx, result);
    } catch (failure) {
      if (hookFailed(rule, name, ctx, failure, log)) return undefined;
      continue;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        value => {
          afterHook(rule, ctx, value);
          return runHooks(rule, name, list, ctx, a, b, log, i + 1);
        },
        failure => (hookFailed(rule, name, ctx, failure, log) ? undefined : runHooks(rule, name, list, ctx, a, b, log, i + 1)),
      );
    }
  }
  if (rule.caughtSignal === 'drop') clearSignal(ctx);
  return undefined;
}

/** A hook ended normally: its value, and a signal it caught, as the rule says. */
function afterHook(rule: HookRule, ctx: Context, value: unknown): void {
  if (rule.caughtSignal === 'keep') {
    const signal = pendingSignal(ctx);
    if (signal !== undefined) throw signal;
  }
  if (rule.returnIsBody && value !== undefined) ctx.responseBody = value;
}

/**
 * A hook threw or rejected: rethrown under `'throw'`; else logged (a Halt ends the list quietly:
 * it is how a hook says "this response, now"). True when the list ends here.
 */
function hookFailed(rule: HookRule, name: HookName, ctx: Context, failure: unknown, log: Log | undefined): boolean {
  if (rule.onFailure === 'throw') throw failure;
  if (rule.caughtSignal === 'drop') clearSignal(ctx);
  if (failure instanceof Halt && rule.onFailure === 'stop') return true;
  const text = failure instanceof Error ? (failure.stack ?? failure.message) : String(failure);
  log?.('error', rule.failed!(ctx, name, text));
  return rule.onFailure === 'stop';
}
