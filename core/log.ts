/**
 * Structured logs: one JSON object per line on stderr. Callers pass facts, never secrets;
 * values of keys that look like credentials are masked here as a second line of defence.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: LogLevel = (process.env.AGENTOTEL_LOG_LEVEL as LogLevel) in order ? (process.env.AGENTOTEL_LOG_LEVEL as LogLevel) : 'info';
const SECRET_KEY = /(token|password|secret|authorization|api[_-]?key|credential)/i;

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < order[threshold]) return;
  const safe: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) safe[k] = SECRET_KEY.test(k) ? '***' : v;
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...safe }) + '\n');
}
