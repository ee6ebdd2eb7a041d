/**
 * The example app's routes (the HTTP contract of issue 5). They are registered on the app they
 * are given, so `app.ts` serves them on the default app from config.yml and the tests on apps
 * of their own; the handlers use the request keywords, which work in any app's request.
 *
 * Pages are views/*.eta inside views/layouts/main.eta (Eta escapes every <%= %>: the login name is
 * the classic stored-XSS vector); the stylesheet and script are files under public/.
 *
 * GET / counts visits: each view of the home page by a logged-in user increments `visits`
 * (the view right after logging in is the first). Anonymous views count nothing.
 *
 * CSRF (config.yml turns `csrf` on): every form carries the token `csrfToken()` gives in a hidden
 * `_csrf` field, so the POST routes pass the check. The login page is a form too (a login form
 * without a token could be submitted from another site and log the victim in as the attacker:
 * login CSRF); an anonymous view of it stores no session: its token is the browser's, in a
 * cookie of its own, so bots fetching the page cost the store nothing. The preference API is a
 * JSON PUT, which no cross-site form can send and which needs a CORS preflight this app never
 * grants: it opts out with `{ csrf: false }`. Its name and body are declared as zod schemas
 * (any Standard Schema library would do): bad input is a 400 naming the field before the route
 * runs, as problem details (RFC 9457) for a client that asks for JSON.
 *
 * GET /sessions ("Your sessions", issue 14) lists the devices logged in as the user, from the
 * owner index login() keeps; POST /sessions/others-out ("Sign out everywhere else") ends all of
 * them but this one. The name typed at login is the user id (the example has no user database).
 */
import { z } from 'zod';
import { body, csrfToken, destroyUserSessions, flash, header, HttpError, login, logout, redirect, sendError, session, status, template, userSessions, type App } from 'quickstep';

/** Preference names: what fits in a URL segment and a session key without escaping. */
const PREF_NAME = /^[a-z0-9_-]{1,32}$/;
/** Each preference is its own session key, so concurrent writes of different ones both stay. */
const PREF_KEY = 'pref.';
const MAX_NAME = 64;
const BAD_NAME = 'A preference name is 1 to 32 of a-z, 0-9, "_" and "-".';
/** The preference API's routes: JSON only, so no CSRF token (see the top of this file). */
const JSON_API = { csrf: false } as const;
/** PUT /prefs/:name: the name, and a JSON body `{"value": <any JSON>}` (the parser has checked it is JSON). */
const PUT_PREF = {
  ...JSON_API,
  params: z.object({ name: z.string().regex(PREF_NAME, BAD_NAME) }),
  body: z.object({ value: z.unknown() }).refine(sent => Object.hasOwn(sent, 'value'), { message: 'Expected a JSON body {"value": <any JSON>}.', path: ['value'] }),
};

/** Registers every route of the example app on `app` and returns it. */
export function defineRoutes(app: App): App {
  return app
    .get('/', home)
    .post('/login', logIn)
    .post('/logout', logOut)
    .get('/sessions', yourSessions)
    .post('/sessions/others-out', signOutOthers)
    .get('/counter', counter)
    .get('/whoami', whoami)
    .put('/prefs/:name', PUT_PREF, ctx => putPref(ctx.valid.params.name, ctx.valid.body.value))
    // Whatever else sits under /prefs/ ("", "a/b") is a bad name too, not a 404.
    .put('/prefs/**', JSON_API, badPrefName)
    .get('/prefs', getPrefs)
    .get('/health', health);
}

async function home(): Promise<string> {
  // session('user') reads without creating: an anonymous visit stores nothing and sends no cookie.
  const user = await session('user');
  if (typeof user !== 'string') return loginPage();
  const current = await session();
  const visits = current.increment('visits');
  // The last five visits: push() appends in the store, so visits from two tabs both count.
  const recent = current.push('recent', new Date().toISOString(), { max: 5 });
  // Shown once: flash() reads and removes it in one step.
  const notice = await flash('notice');
  const prefs = prefsOf(current.toJSON());
  return template('home', { title: `Hello, ${user}`, user, visits, recent, notice, prefs, dark: prefs.theme === 'dark', csrf: await csrfToken() });
}

/** The anonymous home page, and the 400 page of a bad login (with `error`). */
async function loginPage(error?: string): Promise<string> {
  return template('login', { title: error === undefined ? 'Welcome' : 'Login failed', error, csrf: await csrfToken() });
}

async function logIn(): Promise<string> {
  const read = await readLoginName();
  if ('error' in read) {
    // Nothing touched the session: no store write and no cookie for a failed login.
    status(400);
    return loginPage(read.error);
  }
  await session('user', read.name);
  // Records the owner (for "Your sessions") and gives the session a new id, so an id planted in
  // the browser beforehand (fixation) is worthless; the CSRF token changes with it, so a token
  // seen before login is worthless too.
  await login(read.name);
  await flash('notice', `Welcome back, ${read.name}!`);
  return redirect('/', 303);
}

/** The trimmed `user` of a urlencoded form post, or why it is refused. */
async function readLoginName(): Promise<{ name: string } | { error: string }> {
  if (mediaType() !== 'application/x-www-form-urlencoded') return { error: 'Please log in with the form below.' };
  let form: unknown;
  try {
    form = await body();
  } catch (error) {
    // Malformed encoding is the client's mistake: the same readable page, not a bare 400.
    if (error instanceof HttpError && error.status === 400) return { error: 'That form could not be read. Please try again.' };
    throw error;
  }
  const user = (form as Record<string, unknown> | undefined)?.user;
  // Missing, or an array when the field was sent twice.
  if (typeof user !== 'string') return { error: 'Please enter your name.' };
  const name = user.trim();
  // Counted in characters (code points), so a name in emoji is not cut at half the length.
  const length = [...name].length;
  if (length === 0) return { error: 'Please enter your name.' };
  if (length > MAX_NAME) return { error: `A name has at most ${MAX_NAME} characters; that one has ${length}.` };
  return { name };
}

async function logOut(): Promise<never> {
  // destroySession() that also takes this device out of "Your sessions".
  await logout();
  return redirect('/', 303);
}

/** "Your sessions": every device logged in as this user, this one marked. */
async function yourSessions(): Promise<string> {
  const user = await session('user');
  if (typeof user !== 'string') return redirect('/');
  const devices = await userSessions(user);
  const notice = await flash('notice');
  return template('sessions', { title: 'Your sessions', user, devices, notice, csrf: await csrfToken() });
}

/** "Sign out everywhere else": ends every session of this user but the current one. */
async function signOutOthers(): Promise<never> {
  const user = await session('user');
  if (typeof user !== 'string') return redirect('/', 303);
  const ended = await destroyUserSessions(user, { except: (await session()).id });
  await flash('notice', ended === 1 ? 'Signed out 1 other session.' : `Signed out ${ended} other sessions.`);
  return redirect('/sessions', 303);
}

async function counter(): Promise<{ count: number }> {
  // increment() records "+1" for the engine, so concurrent requests add up instead of racing.
  return { count: (await session()).increment('count') };
}

async function whoami(): Promise<{ user: string | null }> {
  const user = await session('user');
  return { user: typeof user === 'string' ? user : null };
}

const badPrefName = (): never => sendError(BAD_NAME, 400);

/** Stores preference `name` (its schemas checked it and the body before this runs). */
async function putPref(name: string, value: unknown): Promise<string> {
  // A form body has a `value` too: the API takes JSON only.
  const type = mediaType();
  if (type !== 'application/json' && !type.endsWith('+json')) return sendError('Send the preference as JSON (content-type: application/json).', 400);
  try {
    await session(PREF_KEY + name, value);
  } catch (error) {
    // A value the session refuses (too deep, not JSON-safe) is the client's, so a 400, not a 500.
    // A value over max_session_size stays the 413 the session gives it.
    if (error instanceof TypeError) return sendError(`That preference cannot be stored: ${error.message}`, 400);
    throw error;
  }
  status(204);
  return '';
}

async function getPrefs(): Promise<Record<string, unknown>> {
  // session() makes a session in memory only; nothing is stored or sent unless it is written.
  return prefsOf((await session()).toJSON());
}

function health(): string {
  header('content-type', 'text/plain; charset=utf-8');
  return 'ok';
}

/** The preferences among the session's keys, by name. */
function prefsOf(data: Record<string, unknown>): Record<string, unknown> {
  // A null prototype, so a preference named __proto__ is an ordinary key.
  const prefs: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(data)) {
    if (key.startsWith(PREF_KEY)) prefs[key.slice(PREF_KEY.length)] = value;
  }
  return prefs;
}

/** The request's content type without parameters, lower-cased ('' when absent). */
function mediaType(): string {
  const type = header('content-type');
  return typeof type === 'string' ? type.split(';', 1)[0]!.trim().toLowerCase() : '';
}
