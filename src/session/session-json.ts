/**
 * The check that a session value survives JSON, made when it is set (not at flush time, where the
 * mistake would be far from its cause): functions, symbols, BigInt, undefined inside a structure,
 * NaN/Infinity, cycles, class instances other than Date, and nesting deeper than
 * MAX_SESSION_DEPTH are refused with a TypeError that names the key and the path of the bad part.
 */

/**
 * How many levels of arrays and objects a session value may nest (`[[1]]` is 2). The check and
 * every engine walk values recursively, so the bound keeps a hostile or accidental 100,000-deep
 * value from overflowing the stack. Above the 64 that `body()` accepts, so a request body can be
 * stored inside an object or two of the app's own.
 */
export const MAX_SESSION_DEPTH = 100;

/** The value as JSON text, and the copy the session keeps (what later requests will read). */
export function toSessionJson(key: string, value: unknown): { json: string; copy: unknown } {
  checkJsonSafe(value, `session value "${key}"`, new Set(), 0);
  const json = JSON.stringify(value);
  // Primitives are their own copy; structures are copied through JSON so a Date reads back as the
  // same string now as in the next request, and later mutation of `value` changes nothing stored.
  return { json, copy: value !== null && typeof value === 'object' ? JSON.parse(json) : value };
}

/**
 * Sets an own, enumerable property, even for `__proto__`, which plain assignment would take for
 * the prototype. Every other key is assigned: session data are plain objects whose properties are
 * all writable data properties and whose only inherited setter is `__proto__`, so assignment
 * makes the same own property, and it costs a fraction of defineProperty's descriptor (about
 * 0.5 µs of a Memory write, bench:profile 2026-12-07).
 */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== '__proto__') target[key] = value;
  else Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function checkJsonSafe(value: unknown, path: string, seen: Set<object>, depth: number): void {
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
  if (depth === MAX_SESSION_DEPTH) {
    throw new TypeError(`${path} nests arrays and objects deeper than ${MAX_SESSION_DEPTH} levels, which a session does not hold; store a flatter value`);
  }
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    throw new TypeError(`${path} is a ${proto?.constructor?.name ?? 'class instance'}, which JSON cannot hold faithfully; store a plain object or array`);
  }
  seen.add(value as object);
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkJsonSafe(item, `${path}[${index}]`, seen, depth + 1));
  } else {
    for (const [k, v] of Object.entries(value as object)) checkJsonSafe(v, `${path}.${k}`, seen, depth + 1);
  }
  seen.delete(value as object);
}
