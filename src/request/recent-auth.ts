/**
 * The check of a `{ recentAuth: seconds }` route (step-up, or "sudo mode";
 * docs/design.md#recent-authentication): the route runs only when the session's user logged in,
 * or logged in again, at most that many seconds ago (`Session.authenticatedAt`, recorded by
 * `login()`). Otherwise the request is sent to the `reauth_redirect` setting with the path it
 * asked for in `return_to` (a 302), or answered 401 without it. A route without the option reads
 * nothing here.
 */
import { HttpError } from '../base/errors.ts';
import { requestSessionOf, type Context } from './context.ts';

/** Resolves when the session's last login is recent enough; else redirects (a Halt) or rejects with a 401. */
export function requireRecentAuth(ctx: Context, seconds: number, redirectTo: string | undefined): Promise<void> {
  return requestSessionOf(ctx).find().then(session => {
    const at = session?.authenticatedAt;
    if (at !== undefined && Date.now() - at.getTime() <= seconds * 1000) return;
    if (redirectTo !== undefined) {
      // Only this site's own path goes back (the setting is a path, checked at start-up).
      ctx.redirect(`${redirectTo}${redirectTo.includes('?') ? '&' : '?'}return_to=${encodeURIComponent(ctx.path)}`);
    }
    throw new HttpError(401, 'Please log in again to continue: this page needs a recent login', { headers: { 'www-authenticate': 'Session' } });
  });
}
