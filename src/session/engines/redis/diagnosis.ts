/**
 * What an operator reads when Redis fails the engine: the cause and the fix, by the error's code
 * (an error reply's first word, such as OOM or NOPERM; a socket's or TLS's `code`, such as
 * ECONNRESET or DEPTH_ZERO_SELF_SIGNED_CERT). Used by redis/connection.ts for the one line
 * logged per episode; an error it does not know is shown as it is.
 */

/** Error replies that make requests fail until someone acts, by Redis's error code. */
const REPLIES: Readonly<Record<string, string>> = {
  OOM: 'Redis is out of memory (maxmemory reached with maxmemory-policy noeviction): session writes fail while reads still work; raise maxmemory or give sessions a Redis of their own',
  NOPERM: 'the Redis user lacks a permission the engine needs: grant the ACL rule from the Redis guide (its commands on the key_prefix pattern)',
  READONLY: 'Redis answers as a read-only replica: point url or server at the master, or use sentinels',
  MISCONF: 'Redis refuses writes because it cannot save its snapshot (stop-writes-on-bgsave-error): fix its disk or persistence settings',
  NOAUTH: 'Redis wants a password: give it in url (redis://:password@host) or password',
  WRONGPASS: 'Redis refused the user name or password: check url or password',
  LOADING: 'Redis is loading its data after a restart',
  BUSY: 'Redis is busy running a slow script (SCRIPT KILL or wait)',
  MASTERDOWN: 'the replica lost its master',
  CLUSTERDOWN: 'the Redis Cluster does not cover every slot',
  TRYAGAIN: 'the Redis Cluster is moving the slot of a session',
};

/** Connection errors whose message alone does not say what to change, by their `code`. */
const CONNECTIONS: Readonly<Record<string, string>> = {
  ECONNRESET: 'the server closed the connection at once; if it serves TLS, use a rediss:// url (and tls.ca for a private CA)',
  ECONNREFUSED: 'nothing listens there: is Redis running, and are host and port right?',
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed: give its certificate or CA as tls.ca",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a CA this process does not trust: give that CA as tls.ca",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is signed by a CA this process does not trust: give that CA as tls.ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is signed by a CA this process does not trust: give that CA as tls.ca",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is for another name: connect by that name, or set tls.server_name",
  EPROTO: 'the TLS handshake failed: does the server speak TLS on that port (rediss://), and does it want a client certificate (tls.cert, tls.key)?',
};

/** The code of an error: a reply's first word in capitals, else its `code` property. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return /^([A-Z]{2,})\b/.exec(error.message)?.[1];
}

/** An error reply that fails requests until someone acts, if it is one of them: its code and the fix. */
export function lastingRefusal(error: unknown): { code: string; fix: string } | undefined {
  const code = errorCode(error);
  const fix = code === undefined ? undefined : REPLIES[code];
  return fix === undefined ? undefined : { code: code!, fix };
}

/** The error's message, with what to change when its code says more than its message. */
export function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  const fix = code === undefined ? undefined : (REPLIES[code] ?? CONNECTIONS[code]);
  return fix === undefined ? message : `${message}: ${fix}`;
}
