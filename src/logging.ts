/**
 * Structured logging: one JSON object per line on stderr. Quiet by default (warn and
 * above); SAMSA_LOG_LEVEL=debug|info|warn|error|silent or the --log-level flag changes it.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
  child(fields: object): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function parseLevel(s: string | undefined): LogLevel {
  return s && s in RANK ? (s as LogLevel) : 'warn';
}

/**
 * stderr redirected to a file on a full disk (or a closed pipe) fails its writes with an
 * 'error' event, which would end the process: a log line that cannot be written is dropped.
 */
let outputErrorsIgnored = false;
function ignoreOutputErrors(): void {
  if (outputErrorsIgnored) return;
  outputErrorsIgnored = true;
  process.stderr.on('error', () => undefined);
  process.stdout.on('error', () => undefined);
}

export function createLogger(level: LogLevel = parseLevel(process.env.SAMSA_LOG_LEVEL), base: object = {}): Logger {
  const min = RANK[level];
  ignoreOutputErrors();
  const emit = (lvl: LogLevel, msg: string, fields?: object) => {
    if (RANK[lvl] < min) return;
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  };
}

/** The process-wide default logger; components receive a child of the broker's logger. */
export const defaultLogger: Logger = createLogger();
