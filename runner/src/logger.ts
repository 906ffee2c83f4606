// pino for the runner and the CLI: JSON lines (one grep follows a run by execution_id), pretty
// when a person is watching a terminal. Secrets are kept out by the callers (tracker/redact.ts)
// and, for the usual field names, by pino's own redaction as a second line of defence.
import pino, { type Logger } from 'pino'

export type LoggerOptions = {
  name?: string
  /** The CLI logs to stderr: stdout carries its progress and summary. */
  stderr?: boolean
  pretty?: boolean
}

export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const fd = options.stderr ? 2 : 1
  const stream = options.stderr ? process.stderr : process.stdout
  const pretty = options.pretty ?? stream.isTTY === true
  const base = {
    name: options.name ?? 'runner',
    level,
    // pg's errors (raised inside pg-boss) carry the whole client object: keep the error, drop that.
    serializers: { err: (err: Error) => ({ ...pino.stdSerializers.err(err), client: undefined }) },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'],
      censor: '***',
    },
  }
  if (pretty) {
    const transport = pino.transport({
      target: 'pino-pretty',
      options: { destination: fd, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
    })
    return pino(base, transport)
  }
  return pino(base, pino.destination({ fd, sync: true }))
}
