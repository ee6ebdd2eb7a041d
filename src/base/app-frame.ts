/**
 * The first frame of a stack that is the app's own code: not Node's (`node:`), not Quickstep's
 * (src/, or dist/ in the package), and, where asked, not a package's (node_modules). Where the
 * development error page says an error was thrown (response/error-details-page.ts), and where an
 * un-awaited session read says it was called (session/session-read.ts).
 */
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A place in the app's code. */
export interface AppFrame {
  path: string;
  line: number;
  column: number;
}

// frame := "    at " [ function " (" ] location [ ")" ] ; location := file ":" line ":" column
// (others, such as "at new Promise (<anonymous>)", name no place and are passed over)
const FRAME = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/** Quickstep's own folder (src/, or dist/ in the package: one up from this file). */
const FRAMEWORK_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * The first frame of `stack` in the app's code, or undefined. `skipPackages`: frames under
 * node_modules are passed over too (an error thrown inside a library is shown where the app
 * called it); a read's call site keeps them, since its few frames start at the caller.
 */
export function firstAppFrame(stack: string | undefined, skipPackages: boolean): AppFrame | undefined {
  for (const line of (stack ?? '').split('\n')) {
    const match = FRAME.exec(line);
    if (match === null || match[1]!.startsWith('node:')) continue;
    let path = match[1]!;
    try {
      if (path.startsWith('file://')) path = fileURLToPath(path);
    } catch {
      continue; // a URL that names no file names no place in the app either
    }
    if (path.startsWith(FRAMEWORK_DIR) || (skipPackages && path.includes(`${sep}node_modules${sep}`))) continue;
    return { path, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}
