// Which stores are behind. A store's data is stale when its last successful window ends longer
// ago than twice its ETL's schedule period (the runner's defaults: ventas every 30 min,
// inventario hourly), or when it never loaded: one missed slot is normal, two are not.
import type { Schemas } from './api/schemas.ts'

type Frescura = Schemas['TiendaFreshness']

export const UMBRAL_SEGUNDOS: Record<Schemas['EtlName'], number> = {
  ventas: 2 * 30 * 60,
  inventario: 2 * 60 * 60,
}

export const desactualizada = (f: Frescura) =>
  f.active && (f.retraso_segundos === null || f.retraso_segundos > UMBRAL_SEGUNDOS[f.etl_name])

/** Stale stores first (the API's order within each group: never loaded, then oldest data). */
export const staleFirst = (rows: Frescura[]) => [
  ...rows.filter(desactualizada),
  ...rows.filter((f) => !desactualizada(f)),
]
