/** One line per event on stderr, filtered by the `log` setting. */

/** The `log` setting: the least severe event logged (`none`: nothing). */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'none';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3, none: 4 };

/** The level of one logged line. */
export type LogEvent = Exclude<LogLevel, 'none'>;

export type Log = (level: LogEvent, message: string) => void;

export function createLog(threshold: LogLevel): Log {
  const min = RANK[threshold];
  return (level, message) => {
    if (RANK[level] >= min) process.stderr.write(`[quickstep] ${new Date().toISOString()} ${level}: ${message}\n`);
  };
}
