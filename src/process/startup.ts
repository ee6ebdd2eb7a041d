/**
 * What `dance()` says and does around the server: the start line, start-up failures as one
 * line each (a ConfigError, a busy port) followed by exit 1, and the graceful stop on SIGINT /
 * SIGTERM; with `workers` above 1, which of these the primary prints and which a worker does
 * (the process management itself is workers.ts). A person reads these in a terminal, so no stack
 * traces for mistakes of config.
 */
import type { App, Listening } from '../server/app.ts';
import type { Settings } from '../config/config.ts';
import { ConfigError } from '../base/errors.ts';

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
 * requests in flight finish, closes the engines and exits 0. With `workers` above 1 this process
 * is either the primary, which forks the workers and never resolves (workers.ts), or one of the
 * workers, which serves as above but leaves the start line and start-up failures to the primary.
 */
export async function serveUntilSignalled(app: App): Promise<Listening> {
  // Loaded only for `workers` above 1, so that one process starts exactly as it always did.
  const workers = app.settings.workers > 1 ? await import('./workers.ts') : undefined;
  if (workers?.isDancePrimary()) return workers.superviseWorkers(app, url => console.log(startLine(app.settings, url)));
  const worker = workers?.isDanceWorker() ? workers : undefined;
  const { port } = app.settings;
  let listening: Listening;
  try {
    listening = await app.listen();
  } catch (error) {
    const line = worker ? startupErrorLine(error, port) : undefined;
    if (line !== undefined) await worker?.reportStartupError(line);
    exitOnStartupError(error, port);
  }
  if (worker) worker.reportListening(listening.url);
  else console.log(startLine(app.settings, listening.url));
  let stopping = false;
  const stop = () => {
    // A worker may be sent SIGTERM by the primary after a SIGINT from the terminal (or by a
    // service manager signalling every process): it keeps stopping gracefully. A lone process
    // keeps the usual meaning of a second signal: stop now.
    if (!worker) process.off('SIGINT', stop).off('SIGTERM', stop);
    if (stopping) return;
    stopping = true;
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  return listening;
}

/** `Quickstep (<environment>, <engine>[, <N> workers]) is dancing on <url>`. */
function startLine(settings: Settings, url: string): string {
  const workers = settings.workers > 1 ? `, ${settings.workers} workers` : '';
  return `Quickstep (${settings.environment}, ${settings.session.engineName}${workers}) is dancing on ${url}`;
}
