/**
 * createApp: the one place where an app's parts are assembled (DESIGN §1). It checks the
 * settings, looks the session engine up by name (engine-registry.ts), builds it, hands it to a
 * SessionFactory and that to the App. The DSL's default app is built here too, from config.yml.
 */
import { App } from './server/app.ts';
import { isCheckedSettings, readSettings, type Settings, type SettingsInput } from './config/config.ts';
import type { SessionEngine } from './session/engine.ts';
import { PublicFiles } from './response/public-files.ts';
import { SessionFactory } from './session/factory.ts';
import { Views } from './views/views.ts';

/** Parts given ready-made instead of built from the settings. */
export interface AppParts {
  /**
   * The session engine to use instead of the one the settings name: for tests (a counting or
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
  app = new App(checked, new SessionFactory(policy, engine), site(checked));
  return app;
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
