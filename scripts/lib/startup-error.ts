/**
 * A problem of the environment (a port taken, a directory that cannot be written, binaries that
 * cannot run), said in one line for the person who ran the command: `npm start` and the other
 * start scripts print its message alone, never a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError'
}
