/**
 * Items in least-recently-used order, linked through themselves: moving one to the newest end,
 * adding one and removing one are O(1) pointer changes whatever the size.
 *
 * Why not a Map's own insertion order (delete, then set again, to move a key to the end): V8's
 * ordered hash table leaves a hole per delete and compacts by rehashing, and walking from the
 * front (`keys().next()`, an expiry sweep) steps over every hole. At 1,000,000 stored sessions
 * that made a touch cost 6 to 180 µs and growing, against 0.04 µs here (bench/results.md,
 * "Stored sessions"); the Map is still the index by key, but is only changed on add and remove.
 */
export interface Linked<T> {
  older: T | undefined;
  newer: T | undefined;
}

export class RecencyList<T extends Linked<T>> {
  #oldest: T | undefined;
  #newest: T | undefined;

  /** The least recently used item (the next to evict or to expire). */
  get oldest(): T | undefined {
    return this.#oldest;
  }

  /** Links `item`, which is in no list, at the newest end. */
  append(item: T): void {
    item.older = this.#newest;
    item.newer = undefined;
    if (this.#newest) this.#newest.newer = item;
    else this.#oldest = item;
    this.#newest = item;
  }

  /** Unlinks `item`, which is in this list. */
  remove(item: T): void {
    if (item.older) item.older.newer = item.newer;
    else this.#oldest = item.newer;
    if (item.newer) item.newer.older = item.older;
    else this.#newest = item.older;
    item.older = item.newer = undefined;
  }

  /** Moves `item`, which is in this list, to the newest end. */
  touch(item: T): void {
    if (item === this.#newest) return;
    this.remove(item);
    this.append(item);
  }
}
