// Who started a run, detected exactly as the plan's §2.2 (`detect_triggered_by`) plus its §1.4
// recovery flag: the --recovery-mode flag wins, then AWS_EXECUTION_ENV (EventBridge runs in AWS),
// then FLUXION_ADMIN=true (the admin panel sets it before calling the ETL), else a person at a
// terminal. pg-boss cron runs pass `scheduler` themselves and never call this.
import type { components } from '../generated/openapi.ts'

export type DetectedTrigger = Extract<
  components['schemas']['TriggeredBy'],
  'eventbridge' | 'fluxion_admin' | 'cli' | 'recovery'
>

export function detectTriggeredBy(
  env: Record<string, string | undefined>,
  opts: { recoveryMode?: boolean } = {},
): DetectedTrigger {
  if (opts.recoveryMode) return 'recovery'
  // The plan tests presence (`os.environ.get(...)` is truthy): an empty value counts as absent.
  if (env.AWS_EXECUTION_ENV) return 'eventbridge'
  if (env.FLUXION_ADMIN === 'true') return 'fluxion_admin'
  return 'cli'
}
