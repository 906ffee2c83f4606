// The product's commands as a user runs them (`npm start`, `npm run start:admin`, …), each in its
// own process group so that a stop reaches npm, node and every service below them, as a
// terminal's Ctrl-C would. Output is kept for assertions and for the failure message.
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

export const ROOT = path.join(import.meta.dirname, '..', '..')

export type Command = {
  name: string
  child: ChildProcess
  output(): string
  exited: Promise<number | null>
  /** Resolves with the first match of `pattern` in the output; rejects if the command exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

const running = new Set<Command>()

export function startCommand(
  name: string,
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Command {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-100_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal)
    } catch {}
  }
  const cmd: Command = {
    name,
    child,
    output: () => output,
    exited,
    waitForOutput: async (pattern, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const match = output.match(pattern)
        if (match) return match
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${name} exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${output.slice(-6000)}`,
          )
        }
        if (Date.now() > deadline)
          throw new Error(`${name}: no ${pattern} within ${timeoutMs} ms:\n${output.slice(-6000)}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    stop: async (graceMs = 20_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup('SIGTERM')
        const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
      }
      // Whatever the group left behind (a service that outlived its parent) goes too.
      signalGroup('SIGKILL')
      running.delete(cmd)
      return child.exitCode
    },
  }
  running.add(cmd)
  return cmd
}

/** `npm run <script>` (or `npm start`) from the repository, as a user types it. */
export function npm(name: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Command {
  return startCommand(name, 'npm', args, { env, cwd })
}

/** Every command still running (for an afterAll that must not leave processes behind). */
export async function stopAll() {
  await Promise.all([...running].map((c) => c.stop()))
}

export async function waitForHttp(cmd: Command, url: string, timeoutMs = 120_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (cmd.child.exitCode !== null)
      throw new Error(`${cmd.name} exited ${cmd.child.exitCode}:\n${cmd.output().slice(-6000)}`)
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) }).catch(() => undefined)
    if (res && res.status < 500) return res
    if (Date.now() > deadline) throw new Error(`${cmd.name} did not answer ${url}:\n${cmd.output().slice(-6000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The live processes of a process group (from /proc): what a stop must leave empty. */
export function processGroup(pgid: number): { pid: number; cmd: string }[] {
  const members: { pid: number; cmd: string }[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // The command name is in parentheses and may hold spaces: fields resume after the last ')'.
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(group) !== pgid || state === 'Z') continue
      members.push({
        pid: Number(entry),
        cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim(),
      })
    } catch {}
  }
  return members
}
