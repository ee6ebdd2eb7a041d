/**
 * For a Promise whose failure someone else reports (whoever awaits it, or nobody when the
 * operation it belongs to already failed): marks the rejection handled, so Node does not report
 * it as unhandled. Awaiting `promise` still sees the error. Returns `promise`.
 */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.then(undefined, ignore);
  return promise;
}

/** A listener that drops what it is given: for errors that are already dealt with elsewhere. */
export function ignore(): void {}
