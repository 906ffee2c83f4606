import { loadEtlTab, recoverGap, runEtl, toggleAutoRecovery } from '#lib/server/etl-tab.ts'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = (event) => loadEtlTab(event, 'ventas')

export const actions = {
  ejecutar: (event) => runEtl(event, 'ventas'),
  recuperar: (event) => recoverGap(event),
  autorecuperacion: (event) => toggleAutoRecovery(event),
} satisfies Actions
