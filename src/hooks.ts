/**
 * Hook names and the order they run in. Per request (DESIGN §2):
 *
 *   before hooks (registration order) -> route handler -> after hooks (registration order)
 *   -> the framework's session hook (flush + Set-Cookie) -> the response is written.
 *
 * `halt()` and `sendError()` skip the route and the user `after` hooks; `redirect()` skips only
 * the rest of the route. The session hook runs for every response except an uncaught 500, so a
 * failed request leaves the stored session as it was.
 */
import type { Context } from './context.ts';

/** A hook gets the request's Context; it may return a Promise, which is awaited. */
export type Hook = (ctx: Context) => unknown;

export const HOOK_NAMES = ['before', 'after'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** Aliases Dancer2 users know. */
const ALIASES: Record<string, HookName> = { before_request: 'before', after_request: 'after' };

export class Hooks {
  readonly before: Hook[] = [];
  readonly after: Hook[] = [];

  /** Registers `hook` under `name`; an unknown name throws at once, listing the known ones. */
  add(name: string, hook: Hook): void {
    const known = (HOOK_NAMES as readonly string[]).includes(name) ? (name as HookName) : ALIASES[name];
    if (!known) {
      throw new TypeError(`Unknown hook "${name}". Known hooks: ${[...HOOK_NAMES, ...Object.keys(ALIASES)].join(', ')}`);
    }
    if (typeof hook !== 'function') throw new TypeError(`hook("${name}", ...) needs a function`);
    this[known].push(hook);
  }
}
