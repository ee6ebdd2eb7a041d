/**
 * A session read a route must await. `if (!session('admin')) return redirect('/login')` forgets
 * the `await`: the Promise is always truthy, so the check never fires and the page is served to
 * anyone. TypeScript reports `if (session('admin'))` and `session('admin') ? a : b` (TS2801, "this
 * condition will always return true"), but not `!session('admin')` nor a Promise kept in a
 * variable and tested later; no type can make `!promise` an error. So the framework checks it:
 * every read keyword returns a `SessionRead`, which notes when anything subscribes to it (`await`,
 * `then`, `catch`, `finally`, `Promise.all`, returning it from the route all call `then`), and a
 * request that ends with a read nobody subscribed to fails closed (pipeline.ts): a 500 instead of
 * the route's response, and one log line naming the keyword, the call site and the fix.
 *
 * Why a subclass and not a flag on a plain Promise: `await` on a native Promise takes a fast path
 * that never calls its `then`; an instance of a subclass is awaited through `then`, so the
 * subscription is seen. `Symbol.species` is Promise, so what `then` returns is a plain Promise.
 */
import { firstAppFrame } from '../base/app-frame.ts';
import { ignore } from '../base/handled.ts';

const nativeThen = Promise.prototype.then;

/** Where a read was started: the raw frames, formatted only if the read is reported. */
export interface CallSite {
  stack?: string;
}

export class SessionRead<T> extends Promise<T> {
  // A data property rather than Promise's getter: read by every `then` (SpeciesConstructor).
  static override readonly [Symbol.species]: PromiseConstructor = Promise;

  /** Whether anything subscribed to this read (see the top of this file). */
  subscribed = false;
  #name = '';
  #argument: string | undefined;
  #site: CallSite | undefined;

  /**
   * The read of `map(value)` for what `source` gives, by keyword `name` (`csrfToken()`; or
   * `session` with its `argument`, the key, shown as the user wrote it), started at `site` (see
   * callSite) if it was captured. A failure nobody subscribed to is not reported as an unhandled
   * rejection: the request fails for the missing `await` instead.
   *
   * `map` is applied here rather than by a `then` on `source`, and the rejection handler is only
   * added when there is a rejection: a read costs one Promise and one reaction on `source`, on
   * every session request's path.
   */
  static of<S, T>(source: Promise<S>, map: (value: S) => T, site: CallSite | undefined, name: string, argument?: string): SessionRead<T> {
    // No named closure here: tsx's keepNames would give each a defineProperty call per read.
    const read: SessionRead<T> = new SessionRead<T>((resolve, reject) => {
      nativeThen.call(source, value => {
        try {
          resolve(map(value as S));
        } catch (error) {
          failRead(read, reject, error);
        }
      }, error => failRead(read, reject, error));
    });
    read.#name = name;
    read.#argument = argument;
    read.#site = site;
    return read;
  }

  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.subscribed = true;
    return nativeThen.call(this, onfulfilled, onrejected) as Promise<A | B>;
  }

  /** The keyword as the user wrote it: `session("admin")`, `csrfToken()`. */
  get keyword(): string {
    return this.#argument === undefined ? this.#name : `${this.#name}(${JSON.stringify(this.#argument)})`;
  }

  /** The first frame of the caller's code, `file:line:column`, or undefined when none was seen. */
  where(): string | undefined {
    const frame = firstAppFrame(this.#site?.stack, false);
    return frame === undefined ? undefined : `${frame.path}:${frame.line}:${frame.column}`;
  }
}

/** Rejects `read` with `error`, handled: a read nobody awaited fails its request, not the process. */
function failRead(read: Promise<unknown>, reject: (reason: unknown) => void, error: unknown): void {
  nativeThen.call(read, undefined, ignore);
  reject(error);
}

/**
 * Where a read is started: the frames below `caller` (the keyword's method; its own frame and
 * those above it are left out), a few only, since just the first outside the framework is wanted.
 * Capturing costs about 2-3 µs (measured on Node 24), more than the rest of a Memory read,
 * so Context captures only where `show_errors` is on (development); elsewhere the log line names
 * the keyword and the request's method and path, and the call site is one run in development away.
 */
export function callSite(caller: Function): CallSite {
  const site: CallSite = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 4;
  Error.captureStackTrace(site, caller);
  Error.stackTraceLimit = limit;
  return site;
}

/** The error of a request that ended with a read nobody awaited: a 500, its message one line. */
export class UnawaitedSessionReadError extends Error {
  constructor(read: SessionRead<unknown>) {
    const site = read.where();
    super(
      `${read.keyword} was called ${site === undefined ? 'by this request' : `at ${site}`} and never awaited, so its value was never used ` +
        `(a Promise is always truthy: \`if (!${read.keyword})\` never fires): write \`await ${read.keyword}\`. ` +
        `The response was not sent, to fail closed.${site === undefined ? ' With show_errors on (development) the line that called it is named.' : ''}`,
    );
    this.name = 'UnawaitedSessionReadError';
    // One line in the log and on the development error page: the message says all there is.
    this.stack = `${this.name}: ${this.message}`;
  }
}
