/**
 * Hook names, and the lists of hooks an app runs. Per request, before hooks (registration
 * order) -> route handler -> after hooks (registration order) -> the framework's session hook
 * -> the response is written; the table of which signal skips which step is in pipeline.ts.
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
