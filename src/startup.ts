/**
 * What `dance()` says and does around the server: the start line, start-up failures as one
 * line each (a ConfigError, a busy port) followed by exit 1, and the graceful stop on SIGINT /
 * SIGTERM. A person reads these in a terminal, so no stack traces for mistakes of config.
 */
import type { App, Listening } from './app.ts';
import { ConfigError } from './errors.ts';

/** Prints a start-up failure a person can act on as one line and exits 1; rethrows the rest. */
export function exitOnStartupError(error: unknown, port?: number): never {
  const line = startupErrorLine(error, port);
  if (line === undefined) throw error;
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/** The one line for a failure of config or of the port; undefined for anything else. */
export function startupErrorLine(error: unknown, port?: number): string | undefined {
  if (error instanceof ConfigError) return `ConfigError: ${error.message}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const change = 'set port in config.yml or the PORT environment variable (port: 0 picks a free one)';
  if (code === 'EADDRINUSE') return `Quickstep cannot listen: port ${port} is already in use by another program; stop it, or ${change}`;
  if (code === 'EACCES') return `Quickstep cannot listen: port ${port} needs privileges this process lacks; ${change}`;
  if (code === 'EADDRNOTAVAIL') return `Quickstep cannot listen: the host address is not one of this machine's; set host in config.yml or HOST`;
  return undefined;
}

/**
 * Serves `app`, prints the start line once, and on SIGINT / SIGTERM stops accepting, lets
 * requests in flight finish, closes the engines and exits 0.
 */
export async function serveUntilSignalled(app: App): Promise<Listening> {
  const { environment, port } = app.settings;
  let listening: Listening;
  try {
    listening = await app.listen();
  } catch (error) {
    exitOnStartupError(error, port);
  }
  console.log(`Quickstep (${environment}, ${app.settings.session.engineName}) is dancing on ${listening.url}`);
  const stop = () => {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  return listening;
}
