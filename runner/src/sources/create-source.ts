// A source per system, created from the configuration (credentials come from the environment).
import type { RunnerConfig } from '../config.ts'
import type { SourceSystem } from '../tracker/classify-error.ts'
import { createKlkSource } from './klk.ts'
import type { Source, Sources } from './source.ts'
import { createStellarSource } from './stellar.ts'

const FACTORIES: Record<SourceSystem, (config: RunnerConfig) => Source> = {
  klk: createKlkSource,
  stellar: createStellarSource,
}

/** Sources created on first use and kept (pooled connections) until `close`. */
export function sourceCache(config: RunnerConfig, given: Sources = {}) {
  const sources: Sources = { ...given }
  const owned: Source[] = []
  return {
    get(system: SourceSystem): Source {
      let source = sources[system]
      if (!source) {
        source = FACTORIES[system](config)
        sources[system] = source
        owned.push(source)
      }
      return source
    },
    /** Closes the sources this cache created (not those it was given). */
    close: () => Promise.all(owned.map((s) => s.close().catch(() => {}))).then(() => {}),
  }
}

export type SourceCache = ReturnType<typeof sourceCache>
