/**
 * Applies a SessionChange to stored data, in the order SessionChange documents. Engines that hold
 * data in the process (Memory) or read-modify-write under a lock use it; Redis does the same
 * inside a Lua script.
 */
import type { SessionChange, SessionValues } from './engine.ts';
import { defineOwn } from './session-json.ts';

/** Returns the data after `change`; `stored` (a fresh copy the caller owns) may be reused. */
export function applyChange(stored: SessionValues | undefined, change: SessionChange): SessionValues {
  const data: SessionValues = change.cleared || stored === undefined ? {} : stored;
  for (const key of change.deleted) delete data[key];
  for (const [key, json] of change.set) defineOwn(data, key, JSON.parse(json));
  for (const [key, by] of change.incremented) {
    const current = Object.hasOwn(data, key) ? data[key] : 0;
    defineOwn(data, key, (typeof current === 'number' ? current : 0) + by);
  }
  for (const [key, { items, max }] of change.pushed) {
    const current = Object.hasOwn(data, key) ? data[key] : undefined;
    const list = Array.isArray(current) ? current : [];
    for (const json of items) list.push(JSON.parse(json));
    defineOwn(data, key, max !== undefined && list.length > max ? list.slice(list.length - max) : list);
  }
  return data;
}
