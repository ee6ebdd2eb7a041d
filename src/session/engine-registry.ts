/**
 * Which engine the `session:` name in config.yml means. The engines that ship with Quickstep are
 * one explicit map, readable here; `registerSessionEngine` adds third-party ones. Nothing is
 * registered by importing a module: createApp asks this file, and only createApp builds engines.
 */
import type { SessionEngineDefinition } from './engine.ts';
import { memoryEngine } from './engines/memory.ts';
import { redisEngine } from './engines/redis-definition.ts';

const BUILT_IN: Readonly<Record<string, SessionEngineDefinition<any>>> = {
  Memory: memoryEngine,
  Redis: redisEngine,
};

const added = new Map<string, SessionEngineDefinition<any>>();

/**
 * Makes an engine available under `name` in config.yml (`session: <name>`). A built-in name
 * cannot be taken over: that would change what an existing config means without saying so.
 */
export function registerSessionEngine<Options extends object>(name: string, definition: SessionEngineDefinition<Options>): void {
  const clash = findSessionEngine(name);
  if (clash && Object.hasOwn(BUILT_IN, clash.name)) {
    throw new TypeError(`registerSessionEngine("${name}"): ${clash.name} is a built-in engine; register yours under another name`);
  }
  if (clash) added.delete(clash.name);
  added.set(name, definition);
}

/** The engine known as `name`, matched without regard to case (`redis` = `Redis`). */
export function findSessionEngine(name: string): { name: string; definition: SessionEngineDefinition<any> } | undefined {
  const wanted = name.toLowerCase();
  for (const [known, definition] of [...Object.entries(BUILT_IN), ...added]) {
    if (known.toLowerCase() === wanted) return { name: known, definition };
  }
  return undefined;
}

/** Names of every known engine, for error messages. */
export function sessionEngineNames(): string[] {
  return [...Object.keys(BUILT_IN), ...added.keys()];
}
