import { loadEtlTab, recoverGap, runEtl, toggleAutoRecovery } from '#lib/server/etl-tab.ts'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = (event) => loadEtlTab(event, 'inventario')

export const actions = {
  ejecutar: (event) => runEtl(event, 'inventario'),
  recuperar: (event) => recoverGap(event),
  autorecuperacion: (event) => toggleAutoRecovery(event),
} satisfies Actions
