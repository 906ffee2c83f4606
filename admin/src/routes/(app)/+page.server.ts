import { redirect } from '@sveltejs/kit'
import type { PageServerLoad } from './$types'

// The control center opens on its history tab; the tabs are routes, so each one is linkable.
export const load: PageServerLoad = () => redirect(307, '/historial')
