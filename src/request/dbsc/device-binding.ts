/**
 * DBSC at the request layer (docs/design.md#device-bound-sessions): the registration and refresh
 * endpoints, the `{ deviceBound: true }` route check, and what a committed response says about
 * the binding. One object per app, made only when the `dbsc` setting is on; the protocol
 * (challenges, proofs, headers, instructions) is in session/dbsc/.
 *
 * Store cost: each endpoint reads the session once (the request's own read) and a successful
 * registration or refresh writes it once (its commit); a 403 with a challenge writes nothing,
 * since challenges are derived from the binding's secret (binding.ts). A device-bound route
 * reads the session, which it was going to, and checks the bound cookie in memory.
 */
import { HttpError } from '../../base/errors.ts';
import type { Log } from '../../base/logger.ts';
import { checkChallenge, DBSC_ALGORITHMS, isBound, issueChallenge, boundCookieValue, validBoundCookie, type BoundBinding, type DbscBinding } from '../../session/dbsc/binding.ts';
import { BoundCookie } from '../../session/dbsc/bound-cookie.ts';
import { challengeHeader, registrationHeader, skippedRefreshes, stringField } from '../../session/dbsc/headers.ts';
import { END_INSTRUCTIONS, sessionInstructions } from '../../session/dbsc/instructions.ts';
import { jwkThumbprint, ProofError, verifyProof } from '../../session/dbsc/proof.ts';
import type { Session } from '../../session/session.ts';
import type { RequestSession } from '../../session/request-session.ts';
import type { SessionPolicy } from '../../session/settings.ts';
import type { ResponseState } from '../../response/response-state.ts';
import { requestSessionOf, responseOf, type Context } from '../context.ts';

/** Where the browser registers a key (named in Secure-Session-Registration). */
export const REGISTRATION_PATH = '/__quickstep/dbsc/registration';
/** Where it renews the bound cookie (named in the session instructions). */
export const REFRESH_PATH = '/__quickstep/dbsc/refresh';

type Outcome = { status: number; body?: string; headers?: Record<string, string>; cookie?: string; log?: [level: 'info' | 'warning', message: string] };

export class DeviceBinding {
  readonly cookie: BoundCookie;
  readonly #log: () => Log;

  constructor(policy: SessionPolicy, log: () => Log) {
    this.cookie = new BoundCookie(policy);
    this.#log = log;
  }

  /**
   * Serves `ctx` when its path is one of the endpoints (the Promise settles once the response is
   * decided), else undefined: a route path costs one comparison.
   */
  serve(ctx: Context): Promise<void> | undefined {
    const path = ctx.path;
    if (path !== REGISTRATION_PATH && path !== REFRESH_PATH) return undefined;
    const response = responseOf(ctx);
    // Security considerations of the spec: the refresh endpoint answers a browser's own
    // same-origin POST only, is never framed or read cross-origin, and is never cached.
    response.headers['cache-control'] = 'no-store';
    response.headers['x-frame-options'] = 'DENY';
    response.headers['cross-origin-resource-policy'] = 'same-origin';
    const refusal = refuseRequest(ctx);
    if (refusal !== undefined) {
      this.#answer(response, refusal);
      return Promise.resolve();
    }
    const sessions = requestSessionOf(ctx);
    return sessions.find().then(session => {
      const outcome = path === REGISTRATION_PATH ? this.#register(ctx, session) : this.#refresh(ctx, session);
      this.#answer(response, outcome);
    });
  }

  /**
   * `{ deviceBound: true }`: a bound session needs its valid bound cookie. A request without a
   * session, or with one that is not bound (a browser without DBSC, a registration not done
   * yet), passes: the route still has its own login check.
   */
  requireBound(ctx: Context): Promise<void> {
    return requestSessionOf(ctx).find().then(session => {
      const binding = session?.dbsc;
      if (!isBound(binding) || validBoundCookie(binding, ctx.cookies[this.cookie.name])) return;
      // Secure-Session-Skipped: the browser says it could not refresh (its policy, the endpoint
      // unreachable): logged as that, not as a copied cookie; the request is refused all the
      // same, since anyone can send the header.
      const skipped = skippedRefreshes(ctx.req.headers['secure-session-skipped']).find(entry => entry.sessionId === binding.id);
      if (skipped !== undefined) {
        this.#log()('info', `dbsc: ${ctx.method} ${ctx.path} refused: the browser skipped the refresh of key ${short(binding)} (${skipped.reason})`);
        throw new HttpError(403, `This page needs a device-bound session; the browser skipped its refresh (${skipped.reason}). Try again.`);
      }
      this.#log()('warning', `dbsc: ${ctx.method} ${ctx.path} refused: session bound to key ${short(binding)} came without a valid bound cookie (a copied session cookie?)`);
      throw new HttpError(403, 'This page needs the device this session is bound to.');
    });
  }

  /**
   * What the committed response says about the binding: a changed id offers registration (with
   * a fresh challenge); an ended session drops the bound cookie the browser sent.
   */
  decorate(ctx: Context, sessions: RequestSession, response: ResponseState): void {
    const offer = sessions.registrationOffer();
    if (offer !== undefined) response.headers['secure-session-registration'] = registrationHeader(DBSC_ALGORITHMS, REGISTRATION_PATH, issueChallenge(offer));
    else if (sessions.endedHere && ctx.cookies[this.cookie.name] !== undefined) response.appendSetCookie(this.cookie.expired());
  }

  #register(ctx: Context, session: Session | undefined): Outcome {
    const binding = session?.dbsc;
    if (session === undefined || binding === undefined) return { status: 400, log: ['info', 'dbsc: registration without a session that offered it'] };
    if (isBound(binding)) return { status: 400, log: ['info', `dbsc: registration for a session already bound to key ${short(binding)}`] };
    const token = stringField(ctx.req.headers['secure-session-response']);
    if (token === undefined) return { status: 400, log: ['info', 'dbsc: registration without a proof (Secure-Session-Response)'] };
    let proof;
    try {
      proof = verifyProof(token, DBSC_ALGORITHMS);
    } catch (error) {
      if (error instanceof ProofError) return { status: 400, log: ['warning', `dbsc: registration refused: ${error.message}`] };
      throw error;
    }
    const issued = checkChallenge(binding, proof.jti);
    if (typeof issued !== 'number') return { status: 400, log: ['warning', `dbsc: registration refused: its challenge is ${issued}`] };
    const bound: BoundBinding = { secret: binding.secret, used: issued, id: binding.id, alg: proof.alg, jwk: proof.jwk, thumbprint: jwkThumbprint(proof.jwk), boundAt: Date.now() };
    session.setDbsc(bound);
    this.#log()('info', `dbsc: session bound to key ${short(bound)} (${bound.alg})`);
    return this.#live(bound);
  }

  #refresh(ctx: Context, session: Session | undefined): Outcome {
    const id = stringField(ctx.req.headers['sec-secure-session-id']);
    if (id === undefined) return { status: 400, log: ['info', 'dbsc: refresh without Sec-Secure-Session-Id (not a browser\'s refresh)'] };
    const binding = session?.dbsc;
    // The session ended (logout, expiry, signed out elsewhere) or was bound anew: the browser's
    // DBSC session ends too, and its bound cookie with it.
    if (!isBound(binding) || binding.id !== id) return { status: 200, body: END_INSTRUCTIONS, cookie: this.cookie.expired() };
    const token = stringField(ctx.req.headers['secure-session-response']);
    if (token === undefined) return this.#challenge(binding);
    let proof;
    try {
      proof = verifyProof(token, [binding.alg], binding);
    } catch (error) {
      // Not the bound key: never a browser's mistake. 400 ends that client's DBSC session, not
      // the binding (a thief cannot unbind the victim's session).
      if (error instanceof ProofError) return { status: 400, log: ['warning', `dbsc: refresh of key ${short(binding)} refused: ${error.message}`] };
      throw error;
    }
    const issued = checkChallenge(binding, proof.jti);
    if (issued === 'forged') return { status: 400, log: ['warning', `dbsc: refresh of key ${short(binding)} refused: a challenge this server never issued`] };
    // Used or stale: the browser signs the new one at once (the spec's 403 round trip).
    if (typeof issued !== 'number') return { ...this.#challenge(binding), log: ['info', `dbsc: refresh of key ${short(binding)} with a ${issued} challenge: asked again`] };
    const renewed: BoundBinding = { ...binding, used: issued };
    (session as Session).setDbsc(renewed);
    return this.#live(renewed);
  }

  /** 403 with a fresh challenge: the spec's "sign this first". Nothing is stored. */
  #challenge(binding: DbscBinding): Outcome {
    return { status: 403, headers: { 'secure-session-challenge': challengeHeader(issueChallenge(binding), binding.id) } };
  }

  /** 200: the instructions and a new bound cookie. */
  #live(binding: BoundBinding): Outcome {
    const value = boundCookieValue(binding, Date.now() + this.cookie.seconds * 1000);
    return { status: 200, body: sessionInstructions(binding.id, REFRESH_PATH, this.cookie.name, this.cookie.attributes), cookie: this.cookie.header(value) };
  }

  #answer(response: ResponseState, outcome: Outcome): void {
    response.status = outcome.status;
    if (outcome.headers) Object.assign(response.headers, outcome.headers);
    if (outcome.cookie !== undefined) response.appendSetCookie(outcome.cookie);
    if (outcome.body !== undefined) response.headers['content-type'] = 'application/json';
    response.body = outcome.body ?? '';
    if (outcome.log) this.#log()(outcome.log[0], outcome.log[1]);
  }
}

/**
 * A request the endpoints refuse before reading any session: not a POST, or one another site
 * (or a sibling subdomain) started: the browser's own DBSC requests are same-origin
 * (Sec-Fetch-Site: same-origin), so the endpoints leak nothing to a cross-site fetch.
 */
function refuseRequest(ctx: Context): Outcome | undefined {
  if (ctx.method !== 'POST') return { status: 405, headers: { allow: 'POST' } };
  const site = ctx.req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return { status: 403, log: ['info', `dbsc: ${ctx.path} refused a ${String(site)} request`] };
  return undefined;
}

/** A key as a log line names it: the start of its thumbprint (never a session id or token). */
function short(binding: BoundBinding): string {
  return binding.thumbprint.slice(0, 12);
}
