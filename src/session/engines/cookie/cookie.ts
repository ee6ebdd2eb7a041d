/**
 * The Cookie engine (Dancer2::Session::Cookie, the Rails default store, iron-session): no server
 * state at all. The whole session — id, data, meta and idle expiry — is sealed inside the cookie
 * with authenticated encryption (cookie/seal.ts), so any process that has the secret can open it:
 * several app servers or cluster workers share sessions with nothing between them.
 *
 * It is an engine of the sealer kind (SessionSealer, engine.ts): it implements no store method.
 * The sealed text is `{"i":<id>,"e":<idle expiry, ms>,"t":<when the id was issued, ms>,"d":<data
 * with __quickstep meta>}` (`t` since the revocation store; a cookie without it reads as issued at 0). The
 * factory opens the request's cookie (openCookie) and, for a session the request changed, sends a
 * new seal as the cookie (sealCookie): the cookie is the flush. What follows from having no
 * server state, declared to the contract suite and documented in docs/guide/cookie-engine.md:
 * - without a revocation store (`revocation:`, session/revocation/), no listing and no "log out
 *   everywhere", and destroy and changeSessionId cannot revoke a copy of the old cookie: a
 *   replayed copy opens until its own idle or absolute expiry (as with Rails' cookie store);
 *   with one, the backend (backend/sealed.ts) checks each opened cookie against it;
 * - concurrent requests do not merge: each answers with its own cookie, the last one wins.
 */
import { ConfigError } from '../../../base/errors.ts';
import { list, string } from '../../../base/schema.ts';
import type { EngineContext, SealedSession, SessionEngineDefinition, SessionSealer } from '../../engine.ts';
import { checkRevocation, createRevocationStore, revocationIsProcessLocal, revocationSpec, type RevocationSetting } from '../../revocation/options.ts';
import { CookieSeal } from './seal.ts';

/** Bytes a secret must have at least: 256 bits, AES-256's key size. */
export const MIN_SECRET_BYTES = 32;

export interface CookieEngineOptions {
  /** The secret the session cookies are sealed with (at least 32 bytes); no default. */
  secret_key: string | undefined;
  /** Key rotation: `[new, old, ...]`; the first seals, every one opens. Instead of secret_key. */
  secret_keys: string[] | undefined;
  /** Where logouts are remembered (revocation/options.ts), or false for nowhere; must be given. */
  revocation: RevocationSetting;
}

/** The sealer: no store method at all, since there is no store. */
export class CookieEngine implements SessionSealer {
  readonly #seal: CookieSeal;
  readonly #log: EngineContext['log'] | undefined;

  /** `secrets` newest first; each at least 32 bytes (a TypeError otherwise). */
  constructor(secrets: readonly string[], log?: EngineContext['log']) {
    const short = secrets.findIndex(secret => Buffer.byteLength(secret) < MIN_SECRET_BYTES);
    if (secrets.length === 0 || short >= 0) throw new TypeError(`CookieEngine: every secret must have at least ${MIN_SECRET_BYTES} bytes`);
    this.#seal = new CookieSeal(secrets);
    this.#log = log;
  }

  openCookie(value: string): SealedSession | undefined {
    const text = this.#seal.open(value);
    if (text === undefined) {
      this.#log?.('debug', 'a session cookie did not open (tampered, truncated, sealed with a key not in secret_keys, or not a Quickstep cookie): no session');
      return undefined;
    }
    let sealed: { i?: unknown; e?: unknown; t?: unknown; d?: unknown };
    try {
      sealed = JSON.parse(text);
    } catch {
      return undefined; // only text sealed with our own key gets here: it is always JSON
    }
    const { i: id, e: expiresAt, t: issuedAt, d: data } = sealed;
    if (typeof id !== 'string' || typeof expiresAt !== 'number' || data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
    if (expiresAt <= Date.now()) return undefined;
    return { id, data: data as Record<string, unknown>, size: text.length, expiresAt, issuedAt: typeof issuedAt === 'number' ? issuedAt : undefined };
  }

  sealCookie(id: string, json: string, ttlSeconds: number, issuedAt?: number): string {
    const issued = issuedAt === undefined ? '' : `"t":${issuedAt},`;
    return this.#seal.seal(`{"i":${JSON.stringify(id)},"e":${Date.now() + ttlSeconds * 1000},${issued}"d":${json}}`);
  }
}

/** The Cookie engine as config.yml sees it: `session: Cookie`, options under `engines.session.Cookie`. */
export const cookieEngine: SessionEngineDefinition<CookieEngineOptions> = {
  options: { secret_key: string(undefined), secret_keys: list(string(''), undefined), revocation: revocationSpec },
  validate: validateCookieOptions,
  processLocal: options => revocationIsProcessLocal(options.revocation),
  create: (options, context) => {
    const sealer = new CookieEngine(secretsOf(options), context.log);
    const revocations = createRevocationStore(options.revocation, context);
    return revocations === undefined ? { sealer } : { sealer, revocations, close: () => revocations.close() };
  },
};

const GENERATE = 'node -e "console.log(require(\'node:crypto\').randomBytes(32).toString(\'base64url\'))"';

/** The secrets, newest first. */
function secretsOf(options: CookieEngineOptions): string[] {
  return options.secret_keys ?? (options.secret_key === undefined ? [] : [options.secret_key]);
}

/** One of secret_key / secret_keys, each secret at least 32 bytes. Never shows a secret. */
function validateCookieOptions(options: CookieEngineOptions, where: { file: string; path: string }): void {
  const { secret_key: key, secret_keys: keys } = options;
  if (key !== undefined && keys !== undefined) {
    throw new ConfigError(where.file, `${where.path}.secret_keys`, 'secret_key or secret_keys, not both (secret_keys: [new, old] rotates keys: the first seals, all open)');
  }
  if (key === undefined && (keys === undefined || keys.length === 0)) {
    throw new ConfigError(where.file, `${where.path}.secret_key`, `a secret of at least ${MIN_SECRET_BYTES} bytes to seal session cookies with (there is no default), e.g. secret_key: \${SESSION_SECRET}; make one with ${GENERATE}`);
  }
  const secrets = secretsOf(options);
  for (const [index, secret] of secrets.entries()) {
    const bytes = Buffer.byteLength(secret);
    if (bytes >= MIN_SECRET_BYTES) continue;
    const at = keys === undefined ? `${where.path}.secret_key` : `${where.path}.secret_keys[${index}]`;
    throw new ConfigError(where.file, at, `a secret of at least ${MIN_SECRET_BYTES} bytes (this one has ${bytes}); make one with ${GENERATE}`);
  }
  checkRevocation(options.revocation, { file: where.file, path: `${where.path}.revocation` });
}
