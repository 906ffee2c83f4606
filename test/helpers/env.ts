// The environment a test gives a command it starts: what a shell would have (PATH, HOME, the
// locale and temp dir), none of the test runner's own variables (DATABASE_URL of the outer run,
// npm_*, VITEST*), plus what the test sets.
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'USER', 'SHELL', 'TERM']
  const env: NodeJS.ProcessEnv = {}
  for (const name of keep) if (process.env[name] !== undefined) env[name] = process.env[name]
  return { ...env, ...extra }
}
