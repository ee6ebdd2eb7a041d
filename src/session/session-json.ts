/**
 * The check that a session value survives JSON, made when it is set (not at flush time, where the
 * mistake would be far from its cause): functions, symbols, BigInt, undefined inside a structure,
 * NaN/Infinity, cycles and class instances other than Date are refused with a TypeError that
 * names the key and the path of the bad part.
 */

/** The value as JSON text, and the copy the session keeps (what later requests will read). */
export function toSessionJson(key: string, value: unknown): { json: string; copy: unknown } {
  checkJsonSafe(value, `session value "${key}"`, new Set());
  const json = JSON.stringify(value);
  // Primitives are their own copy; structures are copied through JSON so a Date reads back as the
  // same string now as in the next request, and later mutation of `value` changes nothing stored.
  return { json, copy: value !== null && typeof value === 'object' ? JSON.parse(json) : value };
}

/** Sets an own, enumerable property, even for keys like `__proto__` that plain assignment would not. */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function checkJsonSafe(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (Number.isFinite(value)) return;
      throw new TypeError(`${path} is ${value}, which JSON cannot hold; use null or a finite number`);
    case 'object':
      break;
    default:
      throw new TypeError(`${path} is a ${typeof value}, which JSON cannot hold; store plain data (strings, numbers, booleans, null, arrays, objects)`);
  }
  if (value === null || value instanceof Date) return;
  if (seen.has(value as object)) throw new TypeError(`${path} refers to itself (a cycle), which JSON cannot hold`);
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    throw new TypeError(`${path} is a ${proto?.constructor?.name ?? 'class instance'}, which JSON cannot hold faithfully; store a plain object or array`);
  }
  seen.add(value as object);
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkJsonSafe(item, `${path}[${index}]`, seen));
  } else {
    for (const [k, v] of Object.entries(value as object)) checkJsonSafe(v, `${path}.${k}`, seen);
  }
  seen.delete(value as object);
}
