/**
 * Hook names, and the lists of hooks an app runs. Per request, before hooks (registration
 * order) -> route handler -> after hooks (registration order) -> the framework's session hook
 * -> the response is written; the table of which signal skips which step is in pipeline.ts.
 * On the way to an error response: `on_route_exception` (uncaught exceptions only, first),
 * then `before_error` (every error response: 404, 405, sendError, HttpError, 500, 503).
 */
import type { Context } from './context.ts';
import type { Log } from '../base/logger.ts';

/** A hook gets the request's Context; it may return a Promise, which is awaited. */
export type Hook = (ctx: Context) => unknown;
/** An error hook also gets the error: an HttpError, or what an uncaught throw threw. */
export type ErrorHook = (ctx: Context, error: unknown) => unknown;
/** A session hook gets the session id (and, for session.id_changed, the old one). */
export type SessionHook = (ctx: Context, id: string, previousId?: string) => unknown;

const SESSION_HOOKS = ['session.created', 'session.loaded', 'session.id_changed', 'session.destroyed', 'session.flushed'] as const;
export type SessionHookName = (typeof SESSION_HOOKS)[number];

export const HOOK_NAMES = ['before', 'after', 'before_error', 'on_route_exception', ...SESSION_HOOKS] as const;
export type HookName = (typeof HOOK_NAMES)[number];
/** The hooks on the way to an error response (error-response.ts runs them). */
export type ErrorHookName = 'before_error' | 'on_route_exception';

/** Aliases Dancer2 users know. */
const ALIASES: Record<string, HookName> = { before_request: 'before', after_request: 'after' };

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
   * `session.destroyed`, `session.flushed` (after each save). Awaited; one that fails is logged
   * and loses nothing (the store operation has already happened).
   */
  readonly session: Record<SessionHookName, SessionHook[]> = {
    'session.created': [], 'session.loaded': [], 'session.id_changed': [], 'session.destroyed': [], 'session.flushed': [],
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

  /** Runs the hooks of `event` in order, each awaited; a failure is logged, never thrown. */
  async runSessionHooks(event: SessionHookName, ctx: Context, id: string, previousId: string | undefined, log: Log): Promise<void> {
    for (const hook of this.session[event]) {
      try {
        await hook(ctx, id, previousId);
      } catch (error) {
        log('error', `a ${event} hook failed (the session operation itself succeeded): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
  }
}
