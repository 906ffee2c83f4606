// Keeps one execution's detail current while it is on screen: `execution` events replace its
// summary fields, `tienda` events its store rows; when it finishes, the full detail is reloaded
// (phase times and the dominant error are only in the detail).
import type { Schemas } from './api/schemas.ts'
import { terminal } from './labels.ts'
import { liveFeed } from './live.svelte.ts'

type Detail = Schemas['ExecutionDetail']
type Tienda = Schemas['TiendaDetail']

export class LiveDetail {
  #source: () => Detail | null
  #summary = $state<Schemas['ExecutionSummary'] | null>(null)
  #tiendas = $state<Record<string, Tienda>>({})

  value = $derived.by(() => {
    const base = this.#source()
    if (!base) return null
    const patched = this.#summary ? { ...base, ...this.#summary } : base
    const known = new Set(base.tiendas_detail.map((t) => t.tienda_id))
    const added = Object.values(this.#tiendas).filter((t) => !known.has(t.tienda_id))
    const tiendas_detail = [...base.tiendas_detail.map((t) => this.#tiendas[t.tienda_id] ?? t), ...added].sort((a, b) =>
      a.tienda_id.localeCompare(b.tienda_id),
    )
    return { ...patched, tiendas_detail }
  })

  constructor(source: () => Detail | null, reload: () => void) {
    this.#source = source
    $effect.pre(() => {
      this.#source()
      this.#summary = null
      this.#tiendas = {}
    })
    $effect(() =>
      liveFeed.subscribe(
        (event) => {
          const id = this.#source()?.id
          if (event.event === 'execution' && event.data.id === id) {
            this.#summary = event.data
            if (terminal(event.data.status)) reload()
          } else if (event.event === 'tienda' && event.data.execution_id === id) {
            this.#tiendas[event.data.tienda_id] = toTienda(event.data)
          }
        },
        () => reload(),
      ),
    )
  }
}

function toTienda(event: Schemas['TiendaEvent']): Tienda {
  const row: Partial<Schemas['TiendaEvent']> = { ...event }
  delete row.execution_id
  return row as Tienda
}
