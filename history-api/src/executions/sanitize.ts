// Plan §8.2: stack traces are sanitised before anyone sees them. The runner stores error_detail
// as the driver's stack (redacted of secrets, runner/src/tracker/redact.ts); what it still holds
// is the server's layout: absolute file paths, node_modules and Node internals. This is applied
// where the API serves the detail, so every client (panel, curl, scripts) gets the same cleaned
// text, rows written before this existed are covered, and the stored original stays available
// to whoever reads the database on the server.

/** An absolute path (POSIX, file:// URL or Windows) not inside a URL; group 1 is its last segment. */
const ABSOLUTE_PATH =
  /(?<![\w:/.\\-])(?:file:\/\/)?(?:\/[\w.@%+~-]+)+\/([\w.@%+~-]+)|(?<![\w])[A-Za-z]:\\(?:[^\\\s:()]+\\)+([^\\\s:()]+)/g

/** Paths in free text reduced to their file name: "open '/srv/app/x.json'" → "open 'x.json'". */
export function stripPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, (_match, posix?: string, windows?: string) => posix ?? windows ?? '')
}

const FRAME = /^(\s*)at\s+(.*)$/
const INTERNAL = /(?:(?:^|\()node:|node_modules[\\/]|\(native\)|<anonymous>)/

/**
 * A stack frame keeps its function and file name with the line (`at fetchPage (klk.ts:88)`):
 * enough to tell frames apart, nothing of where the server keeps its files. Frames of Node
 * itself and of dependencies are left out, counted in one line.
 */
export function sanitizeStack(detail: string): string {
  const out: string[] = []
  let skipped = 0
  const flush = () => {
    if (skipped > 0) out.push(`    … ${skipped} internal frame${skipped === 1 ? '' : 's'} omitted`)
    skipped = 0
  }
  for (const line of detail.split('\n')) {
    const frame = FRAME.exec(line)
    if (!frame) {
      flush()
      out.push(stripPaths(line))
      continue
    }
    if (INTERNAL.test(frame[2]!)) {
      skipped++
      continue
    }
    flush()
    const cleaned = stripPaths(frame[2]!).replace(/:(\d+):\d+(\)?)$/, ':$1$2')
    out.push(`${frame[1]}at ${cleaned}`)
  }
  flush()
  return out.join('\n')
}
