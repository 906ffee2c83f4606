// pino for the runner and the CLI: JSON lines (one grep follows a run by execution_id), pretty
// when a person is watching a terminal. Secrets are kept out by the callers (tracker/redact.ts)
// and, for the usual suspects, by pino's own redaction.
import pino, { type Logger } from 'pino'

export function createLogger(level: string, options: { name?: string; pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true
  return pino({
    name: options.name ?? 'runner',
    level,
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '***' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  })
}
