/**
 * What bench/asvs/run.ts needs of each framework it audits (one column of docs/asvs-peers.md):
 * how to start its login app over HTTPS on 127.0.0.1, the audit's description of that app, and
 * the choices made for it, so the doc states them beside the results.
 */
import type { AuditOptions } from 'quickstep/asvs';

/** The idle timeout the apps that have one are configured with (seconds): short, so the audit can wait it out. */
export const IDLE_SECONDS = 3;
/** The absolute lifetime, for the apps that have such a setting (seconds). */
export const ABSOLUTE_SECONDS = 6;

/**
 * How the audit is told about the peers' login apps (the same routes in each): a form post of
 * `user` to /login, a POST /logout, and /whoami showing the user, with the idle timeout they set.
 */
export const PEER_DESCRIPTION: AuditOptions = {
  login: { path: '/login', fields: { user: 'asvs-audit' } },
  logout: { path: '/logout' },
  loggedIn: { path: '/whoami', pattern: '"user":"asvs-audit"' },
  idleTimeout: IDLE_SECONDS,
};

/** The rows n/a for every peer's login app, which has no accounts and no credentials. */
export const PEER_APP_HAS_NO_ACCOUNTS: Readonly<Record<string, string>> = {
  '7.4.2': 'the login app has no accounts to disable (any user name logs in)',
  '7.4.3': 'the login app has no credentials to change',
};

/** One running login app. */
export interface Running {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The self-signed certificate it serves, for the audit to trust. */
  ca: string;
  stop(): Promise<void>;
}

export interface AuditedApp {
  /** The column's header, e.g. `express + express-session`. */
  name: string;
  /** Where the app is written, as the doc cites it. */
  source: string;
  /** The npm packages whose installed versions the doc lists (read from node_modules/<pkg>/package.json). */
  packages: readonly string[];
  /** How the app is set up, and why that is fair to the framework: one line each. */
  choices: readonly string[];
  /**
   * The audit's description of the app. `idleTimeout` / `absoluteTimeout` only where the
   * framework has the setting and the app configures it short (IDLE_SECONDS, ABSOLUTE_SECONDS).
   */
  description: AuditOptions;
  /** Why a row is n/a for this framework (the audit's own evidence says only what it would need). */
  notApplicable: Readonly<Record<string, string>>;
  start(): Promise<Running>;
}
