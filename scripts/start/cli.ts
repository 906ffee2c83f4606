// `npm start -- [--demo] [--verbose]`: the flags, parsed by node:util's parseArgs (strict, so a
// mistyped flag is named instead of being ignored).
import { parseArgs } from 'node:util'
import { StartupError } from '../lib/startup-error.ts'

export type StartOptions = {
  /** Demo stores, demo user and first runs on a DATABASE_URL database too (always on the embedded one). */
  demo: boolean
  /** Service logs shown live, as well as written to .data/logs/ (LOG_LEVEL set does the same). */
  verbose: boolean
  help: boolean
}

export const USAGE = `usage: npm start [-- --demo] [-- --verbose]
  without DATABASE_URL  embedded PostgreSQL in .data/pg with the demo chain (19 stores on stand-ins)
  with DATABASE_URL     that database, migrated; demo stores and user only with --demo
  --verbose             show the services' logs live (they always go to .data/logs/); LOG_LEVEL does too`

export function parseStartArgs(argv: string[], env: NodeJS.ProcessEnv): StartOptions {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        demo: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    })
    return {
      demo: values.demo || !env.DATABASE_URL,
      verbose: values.verbose || Boolean(env.LOG_LEVEL),
      help: values.help,
    }
  } catch (error) {
    throw new StartupError(`${(error as Error).message}\n${USAGE}`)
  }
}
