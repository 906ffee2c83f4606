// Generates the TypeScript types of the contract (openapi.yaml) into every package that uses
// them. `--check` regenerates in memory and exits 1 when any written copy is stale or missing,
// so CI catches a contract edited without `npm run gen`.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'

const root = new URL('../', import.meta.url)
const spec = new URL('openapi.yaml', root)
const targets = [
  'runner/src/generated/openapi.ts',
  'history-api/src/generated/openapi.ts',
  'admin/src/lib/api/generated/openapi.ts',
].map((path) => new URL(path, root))

const header = '// generated from openapi.yaml by npm run gen — do not edit\n\n'

async function generate(): Promise<string> {
  const ast = await openapiTS(spec, { silent: true })
  return header + astToString(ast)
}

async function readOrNull(file: URL): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

const show = (file: URL) => relative(fileURLToPath(root), fileURLToPath(file))

async function main(check: boolean): Promise<number> {
  const output = await generate()
  if (!check) {
    for (const file of targets) {
      await mkdir(dirname(fileURLToPath(file)), { recursive: true })
      await writeFile(file, output)
    }
    console.log(`gen: wrote ${targets.map(show).join(', ')}`)
    return 0
  }
  const problems: string[] = []
  for (const file of targets) {
    const current = await readOrNull(file)
    if (current === null) problems.push(`missing: ${show(file)}`)
    else if (current !== output) problems.push(`stale: ${show(file)} does not match openapi.yaml`)
  }
  if (problems.length === 0) {
    console.log('gen:check: generated types are up to date')
    return 0
  }
  console.error(`gen:check failed:\n  ${problems.join('\n  ')}\nRun \`npm run gen\` to regenerate them.`)
  return 1
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.includes('--check'))
}
