/**
 * The page that shows an error to the developer, as Dancer2's `show_errors` does: the status,
 * the error's name and message, where it was thrown (file:line), its stack, and the errors that
 * caused it (a TemplateError's engine error, a SessionStoreError's Redis error).
 *
 * Only respond.ts asks for it, and only when `show_errors` is on, which config.ts allows in the
 * development environment alone: this page is the one place an error's details reach a client.
 * Every piece of text in it goes through escapeHtml, since a message may echo request input.
 */
import { firstAppFrame } from '../base/app-frame.ts';
import { statusText } from '../base/errors.ts';
import { escapeHtml } from '../base/escape-html.ts';

/** How many `cause`s are followed: enough for wrapped errors, never a loop. */
const MAX_CAUSES = 5;

const ANY_FRAME = /^\s+at /;

const STYLE = 'body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#222}h1{color:#b00020}'
  + 'pre{background:#f5f5f5;padding:1rem;overflow:auto;white-space:pre-wrap}code{font-size:14px}';

/**
 * The HTML page showing `error` (anything thrown) under `status`, escaped. Meant for the
 * developer's browser only: it holds the stack and whatever the message says.
 */
export function errorDetailsPage(status: number, error: unknown): string {
  const title = `${status} ${statusText(status)}`;
  let html = `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n`
    + `<h1>${escapeHtml(title)}</h1>\n`
    + '<p>Shown because <code>show_errors</code> is on (development only). Outside development the client gets <code>public/'
    + `${status}.html</code> or the status alone.</p>\n`
    + section(error, '');
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < MAX_CAUSES; depth++) {
    html += section(cause, 'Caused by: ');
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return `${html}</body>\n</html>\n`;
}

/** One error under a heading starting with `label`: name, message, where it was thrown and its stack frames. */
function section(error: unknown, label: string): string {
  if (!(error instanceof Error)) return `<h2>${label}a thrown ${escapeHtml(typeof error)}</h2>\n<pre>${escapeHtml(String(error))}</pre>\n`;
  const frames = stackFrames(error);
  return `<h2>${label}${escapeHtml(error.name)}</h2>\n<pre>${escapeHtml(error.message)}</pre>\n`
    + thrownAt(frames)
    + (frames.length > 0 ? `<pre>${escapeHtml(frames.join('\n'))}</pre>\n` : '');
}

/** The "    at ..." lines of the error's stack (its first lines repeat the name and message). */
function stackFrames(error: Error): string[] {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  return stack.split('\n').filter(line => ANY_FRAME.test(line));
}

/** "Thrown at file:line" for the first frame in the app's code (not Node's, a package's or Quickstep's), or ''. */
function thrownAt(frames: readonly string[]): string {
  const frame = firstAppFrame(frames.join('\n'), true);
  return frame === undefined ? '' : `<p>Thrown at <code>${escapeHtml(`${frame.path}:${frame.line}`)}</code></p>\n`;
}
