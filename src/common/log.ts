// Structured logs: one JSON object per line on stderr (or a given sink), with a time, a level,
// the component and a message, plus any fields. Not a log shipper, no files, no rotation: the
// platform collects stderr. Never log secrets (keyrings, ICE passwords): callers pass ids.
//
// API (stable; every process uses it):
//   const log = createLogger({ component: 'relay', level?: 'info', sink?: (line) => void, fields? });
//   log.debug|info|warn|error(msg, fields?)      log.child({ worker: 1 }) → Logger with more fields
//   parseLogLevel(text) → LogLevel | undefined;  LOG_LEVELS
// Level default: PARLEY_LOG_LEVEL is read by the CLI (cli-config), not here.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Severity order (a logger at level L writes lines whose rank is at least RANK[L]). */
export const LOG_LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const RANK = LOG_LEVEL_RANK;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  readonly component: string;
  readonly level?: LogLevel;
  /** Where lines go (without the trailing newline added by the default). Default: stderr. */
  readonly sink?: (line: string) => void;
  readonly fields?: LogFields;
}

export function parseLogLevel(text: string): LogLevel | undefined {
  return (LOG_LEVELS as readonly string[]).includes(text) ? (text as LogLevel) : undefined;
}

function toJsonSafe(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, code: (v as { code?: unknown }).code };
  if (typeof v === 'bigint') return v.toString();
  return v;
}

const stderrSink = (line: string): void => {
  process.stderr.write(line + '\n');
};

export function createLogger(o: LoggerOptions): Logger {
  const level = o.level ?? 'info';
  const min = RANK[level];
  const sink = o.sink ?? stderrSink;
  const base: LogFields = { component: o.component, ...o.fields };
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < min) return;
    const rec: LogFields = { time: new Date().toISOString(), level: lvl, ...base, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = toJsonSafe(v);
    let line: string;
    try {
      line = JSON.stringify(rec);
    } catch {
      line = JSON.stringify({ time: rec.time, level: lvl, component: o.component, msg, note: 'fields not serializable' });
    }
    sink(line);
  };
  return {
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...o, level, sink, fields: { ...o.fields, ...fields } }),
  };
}
