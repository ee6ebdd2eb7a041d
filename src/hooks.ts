/**
 * Hook names, and the lists of hooks an app runs. Per request, before hooks (registration
 * order) -> route handler -> after hooks (registration order) -> the framework's session hook
 * -> the response is written; the table of which signal skips which step is in pipeline.ts.
 * On the way to an error response: `on_route_exception` (uncaught exceptions only, first),
 * then `before_error` (every error response: 404, 405, sendError, HttpError, 500, 503).
 */
import type { Context } from './context.ts';

/** A hook gets the request's Context; it may return a Promise, which is awaited. */
export type Hook = (ctx: Context) => unknown;
/** An error hook also gets the error: an HttpError, or what an uncaught throw threw. */
export type ErrorHook = (ctx: Context, error: unknown) => unknown;

export const HOOK_NAMES = ['before', 'after', 'before_error', 'on_route_exception'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
type ErrorHookName = 'before_error' | 'on_route_exception';

/** Aliases Dancer2 users know. */
const ALIASES: Record<string, HookName> = { before_request: 'before', after_request: 'after' };

export class Hooks {
  readonly before: Hook[] = [];
  readonly after: Hook[] = [];
  /** May change the error response: status, headers, body (e.g. render a page). */
  readonly before_error: ErrorHook[] = [];
  /** Sees an uncaught exception before its 500 is made (to report it); cannot change it. */
  readonly on_route_exception: ErrorHook[] = [];

  /** Registers `hook` under `name`; an unknown name throws at once, listing the known ones. */
  add(name: 'before' | 'after' | 'before_request' | 'after_request', hook: Hook): void;
  add(name: ErrorHookName, hook: ErrorHook): void;
  add(name: string, hook: Hook | ErrorHook): void;
  add(name: string, hook: Hook | ErrorHook): void {
    const known = (HOOK_NAMES as readonly string[]).includes(name) ? (name as HookName) : ALIASES[name];
    if (!known) {
      throw new TypeError(`Unknown hook "${name}". Known hooks: ${[...HOOK_NAMES, ...Object.keys(ALIASES)].join(', ')}`);
    }
    if (typeof hook !== 'function') throw new TypeError(`hook("${name}", ...) needs a function`);
    (this[known] as (Hook | ErrorHook)[]).push(hook);
  }
}
