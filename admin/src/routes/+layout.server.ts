import type { LayoutServerLoad } from './$types'

// Whether a session cookie exists, for the header of pages outside the app group (the error
// page of an unknown address, the login). Its validity is the API's to judge.
export const load: LayoutServerLoad = ({ locals }) => ({ sesion: Boolean(locals.token) })
