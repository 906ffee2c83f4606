// What the CLI shows: live progress per store while the run goes, then a summary table read back
// from the database (what was recorded, not what the process believes happened).
import cliProgress from 'cli-progress'
import type { Db } from '../db.ts'

export type ProgressEvent = {
  kind: 'tienda_started' | 'tienda_phase' | 'tienda_finished'
  tiendaId: string
  status?: string
  phase?: string
  records?: number
}

export type ProgressView = { onProgress: (e: ProgressEvent) => void; stop: () => void }

const STEPS: Record<string, number> = { extract: 0, transform: 1, load: 2 }
const ESTADOS: Record<string, string> = {
  success: 'Éxito',
  partial: 'Parcial',
  failed: 'Fallido',
  skipped: 'Omitido',
  closed: 'Cerrada',
  running: 'Ejecutando',
  queued: 'En cola',
  cancelled: 'Cancelado',
}
export const estado = (status: string) => ESTADOS[status] ?? status

/** A bar per store on a terminal; one plain line per event otherwise (logs, CI, pipes). */
export function createProgressView(tiendaIds: string[], out: NodeJS.WriteStream = process.stdout): ProgressView {
  if (!out.isTTY) {
    const line = (text: string) => out.write(`${text}\n`)
    return {
      onProgress: (e) => {
        if (e.kind === 'tienda_started') line(`${e.tiendaId}  iniciada`)
        if (e.kind === 'tienda_phase') line(`${e.tiendaId}  ${e.phase ?? ''}…`)
        if (e.kind === 'tienda_finished') {
          line(`${e.tiendaId}  ${estado(e.status ?? '?')}${e.records === undefined ? '' : `  ${e.records} registros`}`)
        }
      },
      stop: () => {},
    }
  }
  const width = Math.max(...tiendaIds.map((t) => t.length), 6)
  const multibar = new cliProgress.MultiBar(
    {
      stream: out,
      format: `{tienda} [{bar}] {estado}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  )
  // Three steps per store (extract, transform, load); finishing fills the bar whatever the outcome.
  const bars = new Map(
    tiendaIds.map((t) => [t, multibar.create(3, 0, { tienda: t.padEnd(width), estado: 'pendiente' })]),
  )
  const bar = (t: string) =>
    bars.get(t) ?? bars.set(t, multibar.create(3, 0, { tienda: t.padEnd(width), estado: '' })).get(t)!
  return {
    onProgress: (e) => {
      const b = bar(e.tiendaId)
      if (e.kind === 'tienda_started') b.update(0, { estado: 'iniciada' })
      if (e.kind === 'tienda_phase') b.update(STEPS[e.phase ?? ''] ?? 0, { estado: `${e.phase ?? ''}…` })
      if (e.kind === 'tienda_finished') {
        const records = e.records === undefined ? '' : ` · ${e.records} registros`
        b.update(3, { estado: `${estado(e.status ?? '?')}${records}` })
      }
    },
    stop: () => multibar.stop(),
  }
}

export type SummaryRow = {
  tienda_id: string
  status: string
  records_loaded: number | null
  duplicates_skipped: number | null
  error_phase: string | null
  error_category: string | null
  duration_seconds: number | null
}

export function loadSummary(db: Db, executionId: number) {
  return db<SummaryRow[]>`
    select tienda_id, status, records_loaded, duplicates_skipped, error_phase, error_category,
      duration_seconds::float8 as duration_seconds
    from etl_execution_details where execution_id = ${executionId} order by tienda_id`
}

/** A fixed-width table: tienda, estado, registros, duplicados, error fase/categoría, duración. */
export function formatSummary(rows: SummaryRow[]): string {
  const header = ['tienda', 'estado', 'registros', 'duplicados', 'error (fase/categoría)', 'duración']
  const body = rows.map((r) => [
    r.tienda_id,
    estado(r.status),
    String(r.records_loaded ?? 0),
    String(r.duplicates_skipped ?? 0),
    r.error_category ? `${r.error_phase ?? '?'}/${r.error_category}` : '',
    r.duration_seconds === null ? '' : `${Number(r.duration_seconds).toFixed(2)} s`,
  ])
  const sum = (k: 'records_loaded' | 'duplicates_skipped') => rows.reduce((a, r) => a + (r[k] ?? 0), 0)
  const total = ['TOTAL', '', String(sum('records_loaded')), String(sum('duplicates_skipped')), '', '']
  const all = [header, ...body, total]
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)))
  const numeric = new Set([2, 3, 5])
  const fmt = (row: string[]) =>
    row
      .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const rule = widths.map((w) => '─'.repeat(w)).join('  ')
  return [fmt(header), rule, ...body.map(fmt), rule, fmt(total)].join('\n')
}
