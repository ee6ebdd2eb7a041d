/**
 * A DBSC client that plays the browser (the spec's algorithms, as Chromium 156 runs them): a key
 * pair in node:crypto, proofs signed as JWS (ES256 in IEEE P1363 form, or RS256), the
 * registration and refresh requests with the headers the spec names. `quoted` sends the
 * structured-field strings quoted (the spec) or bare (what Chromium 156 sends).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { TestClient, TestResponse } from '../../src/testing/client.ts';

export interface Registration {
  algorithms: string[];
  path: string;
  challenge: string;
}

/** Reads a Secure-Session-Registration header (one entry, as this server sends it). */
export function parseRegistration(header: string | null): Registration | undefined {
  if (header === null) return undefined;
  const match = /^\(([^)]*)\);path="([^"]*)";challenge="([^"]*)"$/.exec(header);
  return match ? { algorithms: match[1]!.split(' '), path: match[2]!, challenge: match[3]! } : undefined;
}

/** Reads a Secure-Session-Challenge header: the challenge and the session id it is for. */
export function parseChallenge(header: string | null): { challenge: string; id: string } | undefined {
  const match = header === null ? null : /^"([^"]*)";id="([^"]*)"$/.exec(header);
  return match ? { challenge: match[1]!, id: match[2]! } : undefined;
}

export class DbscKey {
  readonly alg: 'ES256' | 'RS256';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(alg: 'ES256' | 'RS256' = 'ES256') {
    this.alg = alg;
    const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  /** A DBSC proof for `jti`: with the public key in the header at registration. */
  proof(jti: string, options: { withKey?: boolean; header?: Record<string, unknown>; payload?: Record<string, unknown> } = {}): string {
    const header = { alg: this.alg, typ: 'dbsc+jwt', ...(options.withKey ? { jwk: this.publicKey.export({ format: 'jwk' }) } : {}), ...options.header };
    const payload = { jti, ...options.payload };
    const input = `${b64(header)}.${b64(payload)}`;
    const signature = this.alg === 'ES256' ? sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), this.privateKey);
    return `${input}.${signature.toString('base64url')}`;
  }
}

export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function sf(value: string, quoted: boolean): string {
  return quoted ? `"${value}"` : value;
}

/** One browser's DBSC session with the server: its key, its id, where it refreshes. */
export class DbscBrowser {
  readonly client: TestClient;
  readonly key: DbscKey;
  quoted: boolean;
  sessionId: string | undefined;
  refreshUrl: string | undefined;
  boundCookie: string | undefined;

  constructor(client: TestClient, key = new DbscKey(), quoted = false) {
    this.client = client;
    this.key = key;
    this.quoted = quoted;
  }

  /** Registers with the offer of `response` (a login's); the registration's response. */
  async register(response: TestResponse): Promise<TestResponse> {
    const offer = parseRegistration(response.headers.get('secure-session-registration'));
    if (!offer) throw new Error(`no Secure-Session-Registration in the response (${response.status})`);
    const res = await this.client.post(offer.path, { headers: { 'secure-session-response': sf(this.key.proof(offer.challenge, { withKey: true }), this.quoted), 'sec-fetch-site': 'same-origin' } });
    if (res.status === 200) {
      const instructions = res.json();
      this.sessionId = instructions.session_identifier;
      this.refreshUrl = instructions.refresh_url;
      this.boundCookie = instructions.credentials[0].name;
    }
    return res;
  }

  /** A refresh request: no proof, or `proof`. */
  refreshRequest(proof?: string, extra: Record<string, string> = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { 'sec-secure-session-id': sf(this.sessionId!, this.quoted), 'sec-fetch-site': 'same-origin', ...extra };
    if (proof !== undefined) headers['secure-session-response'] = sf(proof, this.quoted);
    return this.client.post(this.refreshUrl!, { headers });
  }

  /** The spec's refresh: without a proof, then (403) signing the challenge it got. Both responses. */
  async refresh(sign: (challenge: string) => string = challenge => this.key.proof(challenge)): Promise<{ first: TestResponse; second: TestResponse | undefined; challenge: string | undefined }> {
    const first = await this.refreshRequest();
    if (first.status !== 403) return { first, second: undefined, challenge: undefined };
    const challenge = parseChallenge(first.headers.get('secure-session-challenge'))?.challenge;
    if (challenge === undefined) throw new Error('a 403 without Secure-Session-Challenge');
    return { first, second: await this.refreshRequest(sign(challenge)), challenge };
  }
}
