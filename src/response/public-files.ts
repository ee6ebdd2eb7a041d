/**
 * The public folder (`public_dir`), served for GET and HEAD before the routes, as in Dancer2
 * (step 0 of pipeline.ts). A path that names no file there goes on to the routes.
 *
 * Cost for routes: the names at the top of the folder are read once, at start-up, into a Set.
 * A request whose first path segment is not one of them (`/hello` when public/ holds `css/` and
 * `favicon.ico`) is decided by one Set lookup: no stat, no Promise. Only a path that could be a
 * file costs one stat. In development the Set is re-read (at most once a second, and only on a
 * miss), so a file added while the server runs is served without a restart.
 *
 * Safety: the path is percent-decoded once, then refused if it holds NUL, a backslash, or any
 * segment that is `.`, `..` or starts with `.` (no dotfiles, and no `..` by any encoding:
 * `%2e%2e`, `%2f` and `%5c` are decoded before the check). The joined path must still be inside
 * the folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { FileBody } from './send-file.ts';

const REFRESH_MS = 1000;

export class PublicFiles {
  readonly #root: string;
  readonly #development: boolean;
  #names: Set<string>;
  #readAt: number;
  /** public/<status>.html, by status (null: none), outside development. */
  readonly #errorPages = new Map<number, string | null>();

  constructor(dir: string, development: boolean) {
    this.#root = resolve(dir);
    this.#development = development;
    this.#names = this.#readNames();
    this.#readAt = Date.now();
  }

  /**
   * The file the request path `path` (as sent, percent-encoded) names under the folder: undefined
   * at once when it cannot be one, else a Promise of the file or undefined.
   */
  find(path: string): Promise<FileBody | undefined> | undefined {
    const slash = path.indexOf('/', 1);
    let top = slash === -1 ? path.slice(1) : path.slice(1, slash);
    if (top.includes('%')) top = decode(top) ?? '';
    if (!this.#names.has(top) && !this.#refreshed(top)) return undefined;
    const decoded = decode(path);
    if (decoded === undefined || !isSafe(decoded)) return undefined;
    const file = join(this.#root, decoded);
    if (!file.startsWith(this.#root + sep)) return undefined;
    return stat(file).then(
      stats => (stats.isFile() ? new FileBody(file, stats) : undefined),
      () => undefined,
    );
  }

  /** The HTML of public/<status>.html, or undefined when there is none (for error responses). */
  errorPage(status: number): string | undefined {
    const known = this.#development ? undefined : this.#errorPages.get(status);
    if (known !== undefined) return known ?? undefined;
    let html: string | null;
    try {
      html = readFileSync(join(this.#root, `${status}.html`), 'utf8');
    } catch {
      html = null;
    }
    if (!this.#development) this.#errorPages.set(status, html);
    return html ?? undefined;
  }

  /** In development, re-reads the top-level names (at most once a second); whether `top` is one now. */
  #refreshed(top: string): boolean {
    if (!this.#development || Date.now() - this.#readAt < REFRESH_MS) return false;
    this.#names = this.#readNames();
    this.#readAt = Date.now();
    return this.#names.has(top);
  }

  #readNames(): Set<string> {
    try {
      return new Set(readdirSync(this.#root).filter(name => !name.startsWith('.')));
    } catch {
      // No public folder: nothing to serve, every request goes to the routes.
      return new Set();
    }
  }
}

function decode(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** No NUL, no backslash, and no segment that is `.`, `..` or a dotfile (after decoding). */
function isSafe(path: string): boolean {
  if (path.includes('\0') || path.includes('\\')) return false;
  for (const segment of path.split('/')) if (segment.startsWith('.')) return false;
  return true;
}
