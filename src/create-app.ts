/**
 * createApp: the one place where an app's parts are assembled. It checks the settings, looks
 * the session engine up by name (engine-registry.ts), builds it, puts it behind the backend of
 * its kind (a store or a sealer, session/backend/), hands that to a SessionFactory and the
 * factory to the App. The DSL's default app is built here too, from config.yml.
 */
import { App } from './server/app.ts';
import { ConfigError } from './base/errors.ts';
import { isCheckedSettings, readSettings, type Settings, type SettingsInput } from './config/config.ts';
import type { SessionBackend } from './session/backend/backend.ts';
import { SealedBackend } from './session/backend/sealed.ts';
import { StoredBackend } from './session/backend/stored.ts';
import type { SessionEngine } from './session/engine.ts';
import type { SessionPolicy } from './session/settings.ts';
import { PublicFiles } from './response/public-files.ts';
import { SessionFactory } from './session/factory.ts';
import { Views } from './views/views.ts';

/** Parts given ready-made instead of built from the settings. */
export interface AppParts {
  /**
   * The session engine to use instead of the one the settings name (what a definition's
   * `create` gives: a store with its capabilities, or a sealer): for tests (a counting or
   * failing engine around a real one) and for an engine built by hand. The app owns it and
   * closes it with the app. The cookie and expiry policy still come from the settings.
   */
  sessionEngine?: SessionEngine;
}

/**
 * Builds an app from settings given in code (checked as config.yml would be), or from settings
 * already checked by `loadConfig()`: `createApp(loadConfig())` is what `dance()` runs.
 */
export function createApp(settings: SettingsInput | Settings = {}, parts: AppParts = {}): App {
  const checked = isCheckedSettings(settings) ? settings : readSettings(settings);
  const { policy, engine: definition, engineOptions } = checked.session;
  let app: App | undefined;
  const engine = parts.sessionEngine ?? definition.create(engineOptions, {
    sessionDuration: policy.session_duration,
    // Through the app, so that a later `setting('log', ...)` applies to the engine's lines too.
    // Engines log on events (an outage), never while being built, so `app` is set by then.
    log: (level, message) => app?.log(level, message),
  });
  const warn = (message: string) => app?.log('warning', message);
  app = new App(checked, new SessionFactory(policy, backendFor(engine, policy, checked.session.engineName), warn), site(checked));
  return app;
}

/**
 * The engine behind the interface the factory holds: the one place that tells a store from a
 * sealer, once, when the app is built.
 */
function backendFor(engine: SessionEngine, policy: SessionPolicy, engineName: string): SessionBackend {
  if ('sealer' in engine && policy.dbsc) {
    // A sealed session is its cookie: a binding kept in it could be rolled back by replaying an
    // older cookie, and ended nowhere (docs/design.md#device-bound-sessions).
    throw new ConfigError('settings', `engines.session.${engineName}.dbsc`, 'false with a sealing engine such as Cookie (device binding needs a session store: Memory or Redis)', true);
  }
  return 'sealer' in engine ? new SealedBackend(engine, policy) : new StoredBackend(engine, policy);
}

/** The template engine (by its name in the settings), the views and the public folder. */
function site(settings: Settings): { views: Views; publicFiles: PublicFiles | undefined } {
  const development = settings.environment === 'development';
  const { definition, options } = settings.template;
  const engine = definition.create(options, { views: settings.views, development });
  return {
    views: new Views(settings.views, engine, settings.layout, development),
    publicFiles: settings.static_handler ? new PublicFiles(settings.public_dir, development) : undefined,
  };
}
