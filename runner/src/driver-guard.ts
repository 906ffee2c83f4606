import type { Logger } from 'pino'

// postgres.js 3.4.9 (latest) throws from a socket callback — out of reach of any promise —
// when the server terminates a backend in the middle of a transaction: `TypeError: Cannot
// read properties of null (reading 'write')` in src/connection.js (porsager/postgres#1154,
// #1208; fixes proposed upstream, none released). The query itself has already rejected with
// CONNECTION_CLOSED and been handled, so only that secondary throw is ignored; anything else
// still stops the process.
export function ignorePostgresJsSocketBug(logger: Logger) {
  process.on('uncaughtException', (error) => {
    if (error instanceof TypeError && error.stack?.includes('/postgres/src/connection.js')) {
      logger.warn({ err: error }, 'ignored postgres.js error after a terminated connection')
      return
    }
    logger.fatal({ err: error }, 'uncaught exception')
    process.exit(1)
  })
}
