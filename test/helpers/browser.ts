// The browser of the panel's tests: a system Chromium on PATH when one actually runs, else the
// headless Chromium that @sparticuz/chromium ships inside its npm package, so that `npm ci` is
// all a bare machine needs. CHROMIUM_PATH picks one explicitly.
//
// The package unpacks itself into os.tmpdir() at fixed names and takes whatever it finds there as
// done, so two test processes unpacking at once could launch a half-written binary; it is
// unpacked here into a staging directory renamed into place when complete, one per version.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type LaunchOptions } from 'playwright-core'

export type BrowserChoice = {
  executablePath: string
  source: 'CHROMIUM_PATH' | 'system' | 'bundled'
  env?: Record<string, string>
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']

/** Whether `file --version` runs: a binary that is missing, not executable or broken is not usable. */
export function runs(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
  } catch {
    return false
  }
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 })
  return r.status === 0 && /\d+\.\d+/.test(r.stdout)
}

function systemChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of SYSTEM_NAMES) {
      const file = path.join(dir, name)
      if (existsSync(file) && runs(file)) return file
    }
  }
  return undefined
}

let bundled: Promise<BrowserChoice> | undefined

/** @sparticuz/chromium's binary, fonts and NSS libraries, unpacked once per version. */
function bundledChromium(): Promise<BrowserChoice> {
  bundled ??= (async () => {
    // The package exports only its entry point (build/index.js); its bin/ sits beside build/.
    const pkgDir = path.join(path.dirname(fileURLToPath(import.meta.resolve('@sparticuz/chromium'))), '..')
    const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }
    const dir = path.join(os.tmpdir(), `fluxion-chromium-${version}`)
    if (!existsSync(path.join(dir, 'chromium'))) {
      const { inflate } = (await import('@sparticuz/chromium')) as { inflate: (file: string) => Promise<string> }
      const staging = await mkdtemp(`${dir}.tmp-`)
      // inflate() writes into os.tmpdir(), read when it is called: point it at the staging dir.
      const previous = process.env.TMPDIR
      process.env.TMPDIR = staging
      const done = ['chromium.br', 'fonts.tar.br', 'swiftshader.tar.br', 'al2023.tar.br'].map((f) =>
        inflate(path.join(pkgDir, 'bin', f)),
      )
      if (previous === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = previous
      try {
        await Promise.all(done)
        // The package's fonts.conf names /tmp/fonts; ours names the system fonts, then the bundled ones.
        const fonts = ['/usr/share/fonts', '/usr/local/share/fonts', path.join(dir, 'fonts', 'fonts')]
        await writeFile(
          path.join(staging, 'fonts.conf'),
          `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n${fonts.map((f) => `  <dir>${f}</dir>\n`).join('')}  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
        )
        await rename(staging, dir)
      } catch (error) {
        await rm(staging, { recursive: true, force: true })
        // Another process renamed its complete copy into place first.
        if (!existsSync(path.join(dir, 'chromium'))) throw error
      }
    }
    return {
      executablePath: path.join(dir, 'chromium'),
      source: 'bundled',
      // The binary needs NSS and expat, which a bare machine may lack; the package ships them.
      env: { LD_LIBRARY_PATH: path.join(dir, 'al2023', 'lib'), FONTCONFIG_FILE: path.join(dir, 'fonts.conf') },
    }
  })()
  bundled.catch(() => {
    bundled = undefined
  })
  return bundled
}

export async function chooseBrowser(): Promise<BrowserChoice> {
  const explicit = process.env.CHROMIUM_PATH
  if (explicit) {
    if (!runs(explicit)) throw new Error(`CHROMIUM_PATH=${explicit} does not run (\`${explicit} --version\` failed)`)
    return { executablePath: explicit, source: 'CHROMIUM_PATH' }
  }
  const system = systemChromium()
  return system ? { executablePath: system, source: 'system' } : bundledChromium()
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const choice = await chooseBrowser()
  return chromium.launch({
    ...options,
    executablePath: choice.executablePath,
    args: [...FLAGS, ...(options.args ?? [])],
    env: { ...process.env, ...choice.env, ...options.env } as Record<string, string>,
  })
}
