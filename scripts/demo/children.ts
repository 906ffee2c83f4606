// The services of `npm start` as child processes; each output line goes to the service's log.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { ServiceLog } from '../start/service-logs.ts'

export type Child = { name: string; process: ChildProcess; exited: Promise<number | null>; log: ServiceLog }

export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, log: ServiceLog): Child {
  // process.execPath is the pinned Node 24 that runs this script; the services need it too.
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => log.write(line))
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      log.write(`cannot start ${name}: ${error.message}`)
      resolve(127)
    })
    child.once('exit', (code) => resolve(code))
  })
  return { name, process: child, exited, log }
}

/** SIGTERM, then SIGKILL after `graceMs` for whatever has not exited. */
export async function stopChildren(children: Child[], graceMs = 15_000) {
  for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGTERM')
  const timer = setTimeout(() => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL')
  }, graceMs)
  await Promise.all(children.map((c) => c.exited))
  clearTimeout(timer)
}
