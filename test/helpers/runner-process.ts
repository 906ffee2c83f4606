// The real runner as a child process (`node runner/src/main.ts`) and a send-only pg-boss (what
// the history API is), for the reliability tests. Everything started is registered in `cleanups`.
import { createBoss } from '../../runner/src/jobs/boss.ts'
import { spawnTs, testEnv, waitFor } from './runner-kit.ts'

export type Cleanups = (() => Promise<unknown>)[]

export const HEARTBEAT_S = 1
export const STALE_S = 3

export async function sender(url: string, cleanups: Cleanups) {
  const boss = createBoss(url, { schedule: false, supervise: false })
  await boss.start()
  cleanups.push(() => boss.stop({ graceful: false }))
  return boss
}

export async function startRunnerProcess(url: string, cleanups: Cleanups, extra: Record<string, string> = {}) {
  const child = spawnTs(
    'runner/src/main.ts',
    [],
    testEnv(url, {
      RUNNER_HEARTBEAT_S: String(HEARTBEAT_S),
      RUNNER_STALE_AFTER_S: String(STALE_S),
      LOG_LEVEL: 'info',
      ...extra,
    }),
  )
  cleanups.push(async () => {
    if (child.process.exitCode === null) child.process.kill('SIGKILL')
    await child.exited
  })
  // It creates the queues on start; the sender (the API) needs them to exist.
  await waitFor('the runner to start', async () => {
    if (child.process.exitCode !== null) throw new Error(`runner exited ${child.process.exitCode}: ${child.output()}`)
    return /runner started/.test(child.output())
  })
  return child
}
