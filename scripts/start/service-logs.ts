// Where the services' output goes while `npm start` runs: one file per service in .data/logs/
// (appended, each start marked), and also the terminal with --verbose or LOG_LEVEL. The last
// lines of each are kept to say why a service stopped.
import { createWriteStream, type WriteStream } from 'node:fs'
import path from 'node:path'

export type ServiceLog = { write(line: string): void; last(): string[]; close(): Promise<void> }

/** A pino JSON line → its message (and error), so that a stop reason reads as a sentence. */
export function readable(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } }
    if (typeof entry.msg === 'string') return entry.err?.message ? `${entry.msg}: ${entry.err.message}` : entry.msg
  } catch {}
  return line
}

export function openServiceLog(dir: string, name: string, live: boolean): ServiceLog {
  const file: WriteStream = createWriteStream(path.join(dir, `${name}.log`), { flags: 'a' })
  // A full disk must not crash the supervisor: the line is dropped, the terminal still gets it.
  file.on('error', () => {})
  file.write(`=== npm start ${new Date().toISOString()} ===\n`)
  const recent: string[] = []
  return {
    write(line) {
      file.write(`${line}\n`)
      if (live) process.stdout.write(`[${name}] ${line}\n`)
      recent.push(line)
      if (recent.length > 20) recent.shift()
    },
    last: () => recent.map(readable),
    close: () => new Promise((resolve) => file.end(resolve)),
  }
}
