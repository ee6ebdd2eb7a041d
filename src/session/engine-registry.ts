/**
 * Which engine the `session:` name in config.yml means. The engines that ship with Quickstep are
 * one explicit map, readable here; `registerSessionEngine` adds third-party ones. Nothing is
 * registered by importing a module: createApp asks this file, and only createApp builds engines.
 */
import type { SessionEngineDefinition } from './engine.ts';
import { cookieEngine } from './engines/cookie/cookie.ts';
import { memoryEngine } from './engines/memory/memory.ts';
import { redisEngine } from './engines/redis/definition.ts';
import { NamedRegistry } from '../base/named-registry.ts';

/** The engines that ship with Quickstep; `registerSessionEngine` adds others. */
const engines = new NamedRegistry<SessionEngineDefinition<any>>('session engine', {
  Memory: memoryEngine,
  Redis: redisEngine,
  Cookie: cookieEngine,
});

/** Makes an engine available under `name` in config.yml (`session: <name>`). */
export function registerSessionEngine<Options extends object>(name: string, definition: SessionEngineDefinition<Options>): void {
  engines.register(name, definition, 'registerSessionEngine');
}

/** The engine known as `name`, matched without regard to case (`redis` = `Redis`). */
export function findSessionEngine(name: string): { name: string; definition: SessionEngineDefinition<any> } | undefined {
  return engines.find(name);
}

/** Names of every known engine, for error messages; `'built-in'`: those docs/reference/config.md documents. */
export function sessionEngineNames(which: 'all' | 'built-in' = 'all'): string[] {
  return engines.names(which);
}
